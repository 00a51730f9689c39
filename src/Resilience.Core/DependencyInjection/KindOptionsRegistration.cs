using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Resilience.DependencyInjection;

/// <summary>What every kind's <c>Add…(pipelineName, section)</c> does first: bind its options by the shared binder and validate them at start-up.</summary>
internal static class KindOptionsRegistration
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> named <paramref name="pipelineName"/> from <paramref name="section"/> (unknown
    /// keys rejected) and validates them with <paramref name="validator"/> at start-up, each error under the section's path.
    /// </summary>
    public static void Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(ResilienceBuilder builder, string pipelineName, IConfiguration section, string fallbackPath, OptionsSchema<TOptions> schema, IValidateOptions<TOptions> validator)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(pipelineName);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : fallbackPath;
        var options = builder.Services.AddOptions<TOptions>(pipelineName).BindSection(section, schema);
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new NamedOptionsValidator<TOptions>(
            pipelineName, path, (o, at, errors) => errors.AddResult(at, OptionsErrors.Run(validator, o))));
        options.ValidateOnStart();
    }
}
