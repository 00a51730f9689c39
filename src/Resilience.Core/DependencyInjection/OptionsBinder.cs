using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.DependencyInjection;

/// <summary>Reads one configuration key (a value or a sub-section) into options, reporting what cannot be read.</summary>
/// <typeparam name="TOptions">The options' type.</typeparam>
internal delegate void OptionsKeyBinder<in TOptions>(TOptions options, IConfigurationSection key, OptionsErrors errors);

/// <summary>
/// The one configuration binder of Core and both adapters: binds options without reflection (trimming- and AOT-safe),
/// rejects unknown keys at every depth, and reports unparsable values, all by their full configuration path in the
/// <see cref="OptionsErrors"/> format. The errors surface with the options' validation, so start-up lists binding
/// errors and broken rules together in one <see cref="OptionsValidationException"/>.
/// </summary>
internal static class OptionsBinder
{
    // Binding runs inside a configure action, which cannot return errors; they wait here, keyed by the options
    // instance, until its validation (the same factory call) reports them. The table never keeps an instance alive.
    private static readonly ConditionalWeakTable<object, OptionsErrors> Pending = [];

    /// <summary>
    /// Binds the builder's options from <paramref name="section"/> with <paramref name="schema"/>; binding errors are
    /// reported when the options are validated (at start-up with <c>ValidateOnStart</c>), before the broken rules.
    /// </summary>
    public static OptionsBuilder<TOptions> BindSection<TOptions>(this OptionsBuilder<TOptions> builder, IConfiguration section, OptionsSchema<TOptions> schema)
        where TOptions : class
    {
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new BindingErrorsValidator<TOptions>(builder.Name));
        return builder.Configure(options => Bind(section, options, schema));
    }

    /// <summary>Binds <paramref name="options"/> from <paramref name="section"/>; its errors are reported by <see cref="TakeErrors"/>.</summary>
    public static void Bind<TOptions>(IConfiguration section, TOptions options, OptionsSchema<TOptions> schema)
        where TOptions : class
    {
        var errors = Pending.GetValue(options, static _ => new OptionsErrors());
        schema.Bind(section, options, errors);
    }

    /// <summary>Gets and forgets the binding errors recorded for <paramref name="options"/>.</summary>
    public static OptionsErrors? TakeErrors(object options)
    {
        if (Pending.TryGetValue(options, out var errors))
        {
            Pending.Remove(options);
            return errors.Any ? errors : null;
        }

        return null;
    }

    /// <summary>Reports one name's binding errors as validation failures.</summary>
    private sealed class BindingErrorsValidator<TOptions>(string name) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (!string.Equals(optionsName, name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            return TakeErrors(options)?.ToResult() ?? ValidateOptionsResult.Success;
        }
    }
}

/// <summary>The keys of one options type and how each is read; any other key is an error naming the expected ones.</summary>
/// <typeparam name="TOptions">The options' type.</typeparam>
internal sealed class OptionsSchema<TOptions>
    where TOptions : class
{
    private readonly (string Key, OptionsKeyBinder<TOptions> Bind)[] _keys;
    private readonly string _unknownKey;

    public OptionsSchema(params (string Key, OptionsKeyBinder<TOptions> Bind)[] keys)
    {
        _keys = keys;
        var names = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            names[i] = keys[i].Key;
        }

        _unknownKey = "unknown key; expected one of " + string.Join(", ", names) + ".";
    }

    /// <summary>Reads every child of <paramref name="section"/> into <paramref name="options"/>.</summary>
    public void Bind(IConfiguration section, TOptions options, OptionsErrors errors)
    {
        foreach (var child in section.GetChildren())
        {
            var bind = Find(child.Key);
            if (bind is null)
            {
                errors.Add(child.Path, _unknownKey);
            }
            else
            {
                bind(options, child, errors);
            }
        }
    }

    private OptionsKeyBinder<TOptions>? Find(string key)
    {
        // Configuration keys are case-insensitive.
        foreach (var (name, bind) in _keys)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                return bind;
            }
        }

        return null;
    }
}

/// <summary>Parses configuration values (invariant culture), reporting an unparsable one by its path and keeping the current value.</summary>
internal static class OptionsValue
{
    private const string DurationRule = "is not a duration; write it as \"hh:mm:ss\" (e.g. \"00:01:00\")";

    public static int Int(IConfigurationSection key, OptionsErrors errors, int current) =>
        !TryScalar(key, errors, out var value) ? current
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : Invalid(key, errors, "is not a whole number", current);

    public static double Double(IConfigurationSection key, OptionsErrors errors, double current) =>
        !TryScalar(key, errors, out var value) ? current
        : double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : Invalid(key, errors, "is not a number", current);

    public static bool Bool(IConfigurationSection key, OptionsErrors errors, bool current) =>
        !TryScalar(key, errors, out var value) ? current
        : bool.TryParse(value, out var parsed) ? parsed
        : Invalid(key, errors, "is not true or false", current);

    public static TimeSpan TimeSpan(IConfigurationSection key, OptionsErrors errors, TimeSpan current) =>
        !TryScalar(key, errors, out var value) ? current
        : System.TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : Invalid(key, errors, DurationRule, current);

    /// <summary>Parses a duration, for a setter that must not run when the value is unparsable (a set value differs from a derived one).</summary>
    public static bool TryTimeSpan(IConfigurationSection key, OptionsErrors errors, out TimeSpan value)
    {
        value = default;
        if (!TryScalar(key, errors, out var text))
        {
            return false;
        }

        if (System.TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        Invalid(key, errors, DurationRule, value);
        return false;
    }

    /// <summary>A duration that may be left unset: an empty value means <see langword="null"/>.</summary>
    public static TimeSpan? OptionalTimeSpan(IConfigurationSection key, OptionsErrors errors, TimeSpan? current) =>
        key.Value is { } empty && string.IsNullOrWhiteSpace(empty) ? null
        : !TryScalar(key, errors, out var value) ? current
        : System.TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : Invalid(key, errors, DurationRule, current);

    /// <summary>A whole number that may be left unset: an empty value means <see langword="null"/>.</summary>
    public static int? OptionalInt(IConfigurationSection key, OptionsErrors errors, int? current) =>
        key.Value is { } empty && string.IsNullOrWhiteSpace(empty) ? null
        : !TryScalar(key, errors, out var value) ? current
        : int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) ? parsed
        : Invalid(key, errors, "is not a whole number", current);

    public static string String(IConfigurationSection key, OptionsErrors errors, string current) =>
        TryScalar(key, errors, out var value) ? value : current;

    public static TEnum Enum<TEnum>(IConfigurationSection key, OptionsErrors errors, TEnum current)
        where TEnum : struct, Enum =>
        !TryScalar(key, errors, out var value) ? current
        : !IsNumber(value) && System.Enum.TryParse<TEnum>(value, ignoreCase: true, out var parsed) && System.Enum.IsDefined(parsed) ? parsed
        : Invalid(key, errors, "is not one of " + string.Join(", ", System.Enum.GetNames<TEnum>()), current);

    /// <summary>Binds a sub-section with its own schema; a plain value where a section belongs is an error.</summary>
    public static void Section<TOptions>(IConfigurationSection key, OptionsErrors errors, TOptions target, OptionsSchema<TOptions> schema)
        where TOptions : class
    {
        if (!string.IsNullOrEmpty(key.Value))
        {
            errors.Add(key.Path, $"'{key.Value}' is a value; expected a section of keys.");
            return;
        }

        schema.Bind(key, target, errors);
    }

    private static bool TryScalar(IConfigurationSection key, OptionsErrors errors, out string value)
    {
        if (key.Value is null)
        {
            // Only a section with keys below it has no value of its own.
            errors.Add(key.Path, "is a section; expected a value.");
            value = string.Empty;
            return false;
        }

        value = key.Value;
        return true;
    }

    private static T Invalid<T>(IConfigurationSection key, OptionsErrors errors, string rule, T current)
    {
        errors.Add(key.Path, $"'{key.Value}' {rule}.");
        return current;
    }

    // Enum.TryParse accepts any number ("7"); only names are meaningful in configuration.
    private static bool IsNumber(string value) => value.Length > 0 && (char.IsAsciiDigit(value[0]) || value[0] is '-' or '+');
}
