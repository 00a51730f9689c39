using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilience.Reload;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Reloads named options when their configuration section changes, and only when the new values are valid.</summary>
public static class ReloadOptionsBuilderExtensions
{
    /// <summary>
    /// Makes <see cref="IOptionsMonitor{TOptions}"/> pick up changes of <paramref name="section"/> for the builder's
    /// name once they produce valid options. Invalid values (a validator's failure or an unparsable value) are logged as
    /// <c>OptionsReloadRejected</c> (event 1600, Warning) and never reach the monitor: it keeps returning the last valid
    /// options and raises no change.
    /// </summary>
    /// <typeparam name="TOptions">The options' type.</typeparam>
    /// <param name="builder">The options builder of one name, whose configure actions read <paramref name="section"/>.</param>
    /// <param name="section">The section to watch; a reload that leaves its keys and values unchanged is ignored.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// The library's own registrations (<c>AddPipeline</c>, <c>AddCircuitBreaker</c> with a section, and the HTTP handler
    /// with a section) call this already; use it for options of your own bound the same way. Logs go to the
    /// <c>Resilience.Reload</c> category of the container's <see cref="ILoggerFactory"/>.
    /// </remarks>
    public static OptionsBuilder<TOptions> ReloadOnChange<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(this OptionsBuilder<TOptions> builder, IConfiguration section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var name = builder.Name;
        builder.Services.AddSingleton<IOptionsChangeTokenSource<TOptions>>(sp => new ValidatedReloadSource<TOptions>(
            name,
            section,
            sp.GetRequiredService<IOptionsFactory<TOptions>>(),
            sp.GetRequiredService<IOptionsMonitorCache<TOptions>>(),
            sp.GetService<ILoggerFactory>()?.CreateLogger("Resilience.Reload") ?? NullLogger.Instance));
        return builder;
    }
}
