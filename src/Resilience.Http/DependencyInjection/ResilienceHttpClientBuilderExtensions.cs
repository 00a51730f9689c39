using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.DependencyInjection;
using Resilience.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the resilience handler to a named <see cref="HttpClient"/>.</summary>
/// <remarks>
/// <para>
/// Named so as not to collide with Microsoft.Extensions.Http.Resilience (<c>AddResilienceHandler</c>,
/// <c>AddStandardResilienceHandler</c>): both packages can be referenced side by side.
/// </para>
/// <para>
/// Add the handler once per client: a second call for the same client throws <see cref="InvalidOperationException"/>.
/// <see cref="HttpClient.Timeout"/> is never changed when you set it; one shorter than
/// <see cref="HttpResilienceOptions.TotalTimeout"/> fails start-up (or <c>CreateClient</c> without a host), because it
/// would cancel requests mid-retry as if the caller had. HttpClient's own default (100 s) becomes
/// <see cref="Timeout.InfiniteTimeSpan"/> when the total timeout is longer.
/// </para>
/// </remarks>
public static class ResilienceHttpClientBuilderExtensions
{
    /// <summary>The configuration section under which clients are conventionally configured: <c>Resilience:Http:{client}</c>.</summary>
    public const string ConfigurationSection = "Resilience:Http";

    /// <summary>Adds the resilience handler with the <c>standard</c> preset (<see cref="HttpResilienceOptions.Standard"/>).</summary>
    /// <param name="builder">The client's builder.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddResilienceHttpHandler(this IHttpClientBuilder builder) =>
        builder.AddResilienceHttpHandler(static _ => { });

    /// <summary>Adds the resilience handler, configured in code; the options are validated at start-up.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="configure">Adjusts the <c>standard</c> preset.</param>
    /// <returns>The builder.</returns>
    /// <remarks>Validation errors are reported under <c>Resilience:Http:{client}</c>, naming the key and the rule.</remarks>
    public static IHttpClientBuilder AddResilienceHttpHandler(this IHttpClientBuilder builder, Action<HttpResilienceOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        Register(builder, $"{ConfigurationSection}:{builder.Name}").Configure(configure);
        return builder;
    }

    /// <summary>Adds the resilience handler, bound from <paramref name="section"/> (e.g. <c>Resilience:Http:{client}</c>) and validated at start-up.</summary>
    /// <param name="builder">The client's builder.</param>
    /// <param name="section">The section holding the option keys; an unknown key or an unparsable value is a start-up error naming its path.</param>
    /// <param name="configure">Optional code applied after binding, e.g. to set <see cref="HttpResilienceOptions.ShouldHandleOutcome"/>.</param>
    /// <returns>The builder.</returns>
    /// <remarks>
    /// When the section changes, valid new options apply from the next request (a request runs under the old or the
    /// new ones, never a mix) and the per-authority breakers keep their state; invalid ones are logged (event 1600)
    /// and the old ones stay in force.
    /// </remarks>
    public static IHttpClientBuilder AddResilienceHttpHandler(this IHttpClientBuilder builder, IConfiguration section, Action<HttpResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : $"{ConfigurationSection}:{builder.Name}";
        var options = Register(builder, path).BindSection(section, HttpResilienceOptionsBinder.Options);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ReloadOnChange(section);

        return builder;
    }

    private static OptionsBuilder<HttpResilienceOptions> Register(IHttpClientBuilder builder, string keyPrefix)
    {
        var services = builder.Services;
        var name = builder.Name;
        foreach (var descriptor in services)
        {
            if (descriptor.ImplementationInstance is HttpResilienceNamedValidator { ClientName: var registered } && string.Equals(registered, name, StringComparison.Ordinal))
            {
                // Two handlers on one client retry each other's retries and count every failure twice.
                throw new InvalidOperationException(
                    $"The resilience handler is already added to the HttpClient '{name}'. Add it once per client: configure it in one AddResilienceHttpHandler call.");
            }
        }

        // Core's one registry, so the per-authority breakers appear in the application's status report.
        services.AddResilience();
        services.TryAddSingleton<HttpResilienceClients>();
        services.TryAddSingleton(static sp => new HttpResilienceLimiters(sp.GetRequiredService<HttpResilienceClients>()));
        services.AddSingleton<IValidateOptions<HttpResilienceOptions>>(new HttpResilienceNamedValidator(name, keyPrefix));

        // HttpClient.Timeout sits outside the handler and its cancellation looks like the caller's, so it must not be
        // shorter than the total timeout. A value the user set is never changed: a shorter one fails start-up (the
        // validator); HttpClient's own default is raised to Infinite only when the total timeout is longer than it.
        services.AddOptions<HttpClientFactoryOptions>(name)
            .PostConfigure<IOptionsMonitor<HttpResilienceOptions>>((factory, monitor) => HttpClientTimeoutGuard.Install(factory, name, monitor));
        services.AddSingleton<IValidateOptions<HttpClientFactoryOptions>>(sp => new HttpClientTimeoutGuard(name, keyPrefix, sp));
        services.AddSingleton<IValidateOptions<HttpResilienceOptions>>(sp => new HttpClientTimeoutGuard(name, keyPrefix, sp));
        services.AddOptions<HttpClientFactoryOptions>(name).ValidateOnStart();

        builder.AddHttpMessageHandler(sp => new ResilienceHttpHandler(sp.GetRequiredService<HttpResilienceClients>().GetSlot(name)));
        return services.AddOptions<HttpResilienceOptions>(name).ValidateOnStart();
    }
}
