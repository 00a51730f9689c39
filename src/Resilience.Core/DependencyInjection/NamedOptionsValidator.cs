using Microsoft.Extensions.Options;

namespace Resilience.DependencyInjection;

/// <summary>Validates the options of one name, reporting each broken rule under the configuration path they were bound from.</summary>
/// <typeparam name="TOptions">The options' type.</typeparam>
/// <param name="name">The options name validated; other names are skipped.</param>
/// <param name="path">The options' configuration path, e.g. <c>Resilience:Pipelines:orders-db</c>.</param>
/// <param name="collect">Checks the options and adds <c>{path}:{Key}: {rule}</c> errors.</param>
internal sealed class NamedOptionsValidator<TOptions>(string name, string path, Action<TOptions, string, OptionsErrors> collect) : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <summary>Gets the options name validated.</summary>
    public string Name => name;

    public ValidateOptionsResult Validate(string? optionsName, TOptions options)
    {
        if (!string.Equals(optionsName, name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new OptionsErrors();
        collect(options, path, errors);
        return errors.ToResult();
    }
}
