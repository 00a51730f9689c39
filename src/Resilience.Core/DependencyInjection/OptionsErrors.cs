using Microsoft.Extensions.Options;

namespace Resilience.DependencyInjection;

/// <summary>
/// Collects the errors of one options instance in the library's one message format, <c>{Section}:{Key}: {rule}</c>,
/// where <c>{Section}:{Key}</c> is the full configuration path of the key (e.g.
/// <c>Resilience:Pipelines:orders-db:Retry:MaxRetries: must be between 0 and 100.</c>).
/// </summary>
/// <remarks>Binding errors (unknown key, unparsable value) and rule violations of Core and both adapters go through it.</remarks>
internal sealed class OptionsErrors
{
    // Passed as the options name to the source-generated DataAnnotations validators: their messages then read
    // "{member}: The field \u001F.{Dotted.Member.Path} {rule}", from which the key path and the rule are recovered.
    private const string DataAnnotationsName = "\u001F";
    private const string DataAnnotationsMarker = "The field " + DataAnnotationsName + ".";
    private const string PropertyMarker = "Property ";

    private List<string>? _failures;

    /// <summary>Gets a value indicating whether an error was added.</summary>
    public bool Any => _failures is { Count: > 0 };

    /// <summary>Gets the errors added so far.</summary>
    public IReadOnlyList<string> Failures => _failures ?? (IReadOnlyList<string>)[];

    /// <summary>Joins a section path and a key: <c>{section}:{key}</c>, or the key alone at the root.</summary>
    public static string Join(string section, string key) => section.Length == 0 ? key : section + ":" + key;

    /// <summary>Adds <c>{path}: {rule}</c>.</summary>
    public void Add(string path, string rule) => (_failures ??= []).Add(path + ": " + rule);

    /// <summary>Adds every error of <paramref name="other"/>, already in the format.</summary>
    public void Add(OptionsErrors other)
    {
        foreach (var failure in other.Failures)
        {
            (_failures ??= []).Add(failure);
        }
    }

    /// <summary>Adds <c>{section}:{key}: {rule}</c>.</summary>
    public void Add(string section, string key, string rule) => Add(Join(section, key), rule);

    /// <summary>
    /// Adds the failures of a validator of this library run by <see cref="Run{TOptions}"/>, each under its key below
    /// <paramref name="section"/>: the DataAnnotations ones ("{member}: The field \u001F.{Member.Path} {rule}") and those
    /// added with <see cref="ValidateOptionsResultBuilder.AddError"/> ("Property {Key}: {Key} ({value}) {rule}").
    /// </summary>
    public void AddResult(string section, ValidateOptionsResult result)
    {
        if (!result.Failed)
        {
            return;
        }

        foreach (var failure in result.Failures ?? [result.FailureMessage])
        {
            var at = failure.IndexOf(DataAnnotationsMarker, StringComparison.Ordinal);
            var keyEnd = at < 0 ? -1 : failure.IndexOf(' ', at + DataAnnotationsMarker.Length);
            if (keyEnd >= 0)
            {
                var key = failure[(at + DataAnnotationsMarker.Length)..keyEnd].Replace('.', ':');
                Add(section, key, failure[(keyEnd + 1)..]);
            }
            else if (failure.StartsWith(PropertyMarker, StringComparison.Ordinal) && failure.IndexOf(": ", PropertyMarker.Length, StringComparison.Ordinal) is > 0 and var colon)
            {
                var key = failure[PropertyMarker.Length..colon];
                Add(section, key, MoveValueToEnd(key, failure[(colon + 2)..]));
            }
            else
            {
                // Already "{Key}: {rule}" or a sentence without a key: it still goes under the section's path.
                Add(section.Length == 0 ? "Options" : section, failure);
            }
        }
    }

    // "MaxDelay (00:10:00) must be at most 00:05:00." -> "must be at most 00:05:00 (was 00:10:00)."
    private static string MoveValueToEnd(string key, string rule)
    {
        var prefix = key + " (";
        var close = rule.StartsWith(prefix, StringComparison.Ordinal) ? rule.IndexOf(") ", prefix.Length, StringComparison.Ordinal) : -1;
        if (close < 0)
        {
            return rule;
        }

        var value = rule[prefix.Length..close];
        return rule[(close + 2)..].TrimEnd('.') + " (was " + value + ").";
    }

    /// <summary>Runs a validator of this library so that <see cref="AddResult"/> can read the keys in its messages.</summary>
    public static ValidateOptionsResult Run<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class => validator.Validate(DataAnnotationsName, options);

    /// <summary>Gets the result: success, or a failure listing every error.</summary>
    public ValidateOptionsResult ToResult() => Any ? ValidateOptionsResult.Fail(_failures!) : ValidateOptionsResult.Success;

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every error, if there is one.</summary>
    public void ThrowIfAny(string name, Type optionsType)
    {
        if (Any)
        {
            throw new OptionsValidationException(name, optionsType, _failures!);
        }
    }
}
