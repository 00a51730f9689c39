using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.CircuitBreaking;
using Resilience.Http;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the resilience handler to a named <see cref="HttpClient"/>.</summary>
/// <remarks>
/// Named so as not to collide with Microsoft.Extensions.Http.Resilience (<c>AddResilienceHandler</c>,
/// <c>AddStandardResilienceHandler</c>): both packages can be referenced side by side. Add the handler once per client.
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
    /// <param name="configure">Optional code applied after binding, e.g. to set <see cref="HttpResilienceOptions.IsTransient"/>.</param>
    /// <returns>The builder.</returns>
    public static IHttpClientBuilder AddResilienceHttpHandler(this IHttpClientBuilder builder, IConfiguration section, Action<HttpResilienceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        var path = section is IConfigurationSection s ? s.Path : $"{ConfigurationSection}:{builder.Name}";
        var name = builder.Name;
        var options = Register(builder, path).Configure(o => HttpResilienceOptionsBinder.Bind(section, name, path, o));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return builder;
    }

    private static OptionsBuilder<HttpResilienceOptions> Register(IHttpClientBuilder builder, string keyPrefix)
    {
        var services = builder.Services;
        var name = builder.Name;

        // Core's one registry, so the per-authority breakers appear in the application's status report.
        services.AddResilience();
        services.TryAddSingleton<HttpResilienceClients>();
        services.AddSingleton<IValidateOptions<HttpResilienceOptions>>(new HttpResilienceNamedValidator(name, keyPrefix));

        // The handler's total timeout is the one that applies: HttpClient's own (100 s by default) must not cut it short,
        // since its cancellation looks like the caller's and is neither retried nor reported as a timeout.
        builder.ConfigureHttpClient((sp, client) =>
        {
            var total = sp.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(name).TotalTimeout;
            if (client.Timeout != Timeout.InfiniteTimeSpan && client.Timeout < total)
            {
                client.Timeout = Timeout.InfiniteTimeSpan;
            }
        });
        builder.AddHttpMessageHandler(sp => new ResilienceHttpHandler(sp.GetRequiredService<HttpResilienceClients>().Get(name)));
        return services.AddOptions<HttpResilienceOptions>(name).ValidateOnStart();
    }
}
