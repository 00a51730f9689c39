using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>
/// Keeps <see cref="HttpClient.Timeout"/> from cutting the handler's total timeout short without ever overriding a value
/// the user set: HttpClient's default is adjusted, a user's shorter value fails validation (at start-up with a host),
/// and a reload that would raise the total timeout above the timeout of the clients already created is rejected.
/// </summary>
/// <remarks>
/// Whether the user set the timeout is told by a sentinel: the first client action sets it, the last one replaces it
/// if it is still there. Both are added in <c>PostConfigure</c>, so they wrap every <c>ConfigureHttpClient</c>,
/// whichever order the user called them in.
/// </remarks>
internal sealed class HttpClientTimeoutGuard(string clientName, string keyPrefix, IServiceProvider services)
    : IValidateOptions<HttpClientFactoryOptions>, IValidateOptions<HttpResilienceOptions>
{
    // HttpClient's own default, and a value no one sets by hand that stands for "not set".
    private static readonly TimeSpan HttpClientDefault = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan Unset = TimeSpan.FromSeconds(100) + TimeSpan.FromTicks(7);

    public static void Install(HttpClientFactoryOptions factory, string clientName, IOptionsMonitor<HttpResilienceOptions> monitor)
    {
        factory.HttpClientActions.Insert(0, static client => client.Timeout = Unset);
        factory.HttpClientActions.Add(new DefaultTimeout(clientName, monitor).Apply);
    }

    private static TimeSpan DefaultFor(TimeSpan totalTimeout) => totalTimeout > HttpClientDefault ? Timeout.InfiniteTimeSpan : HttpClientDefault;

    /// <summary>At start-up (or the first <c>CreateClient</c>): the client's timeout must not be shorter than the handler's total timeout.</summary>
    public ValidateOptionsResult Validate(string? name, HttpClientFactoryOptions factory)
    {
        if (!string.Equals(name, clientName, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        TimeSpan total;
        TimeSpan timeout;
        try
        {
            total = services.GetRequiredService<IOptionsMonitor<HttpResilienceOptions>>().Get(clientName).TotalTimeout;
            timeout = ClientTimeout(factory);
        }
        catch (OptionsValidationException)
        {
            // Invalid handler options are reported by their own validator: one error per cause.
            return ValidateOptionsResult.Skip;
        }

        if (timeout == Timeout.InfiniteTimeSpan || timeout >= total)
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture,
            $"{keyPrefix}:TotalTimeout: HttpClient.Timeout ({timeout:c}) of the client '{clientName}' is shorter than TotalTimeout ({total:c}); it would cancel requests mid-retry as if the caller had, so they would be neither retried nor reported. Set TotalTimeout to at most {timeout:c}, or HttpClient.Timeout to at least {total:c} or Timeout.InfiniteTimeSpan."));
    }

    /// <summary>
    /// On a reload, once the client is in use: clients created so far keep their timeout, so a total timeout above it
    /// would cancel their requests mid-retry. Before that (start-up), the check above covers it.
    /// </summary>
    public ValidateOptionsResult Validate(string? name, HttpResilienceOptions options)
    {
        if (!string.Equals(name, clientName, StringComparison.Ordinal) || !services.GetRequiredService<HttpResilienceClients>().IsInUse(clientName))
        {
            return ValidateOptionsResult.Skip;
        }

        // Created and validated when the client was first created. The default is worked out from the engine in force:
        // the monitor may be rebuilding these very options (asking it would recurse).
        var inForce = services.GetRequiredService<HttpResilienceClients>().Get(clientName).TotalTimeout;
        var timeout = ClientTimeout(services.GetRequiredService<IOptionsMonitor<HttpClientFactoryOptions>>().Get(clientName), inForce);
        if (timeout == Timeout.InfiniteTimeSpan || timeout >= options.TotalTimeout)
        {
            return ValidateOptionsResult.Success;
        }

        return ValidateOptionsResult.Fail(string.Create(CultureInfo.InvariantCulture,
            $"{keyPrefix}:TotalTimeout: TotalTimeout ({options.TotalTimeout:c}) would exceed HttpClient.Timeout ({timeout:c}) of the clients '{clientName}' already created; they would cancel requests mid-retry as if the caller had. Keep TotalTimeout at most {timeout:c}, or set HttpClient.Timeout to Timeout.InfiniteTimeSpan."));
    }

    /// <summary>The timeout <c>CreateClient</c> sets: the client's own configuration, replayed on a client that never sends.</summary>
    /// <param name="factory">The client's configuration.</param>
    /// <param name="totalInForce">When given, the default is worked out from it instead of by the installed action.</param>
    private static TimeSpan ClientTimeout(HttpClientFactoryOptions factory, TimeSpan? totalInForce = null)
    {
        using var probe = new HttpClient(new HttpClientHandler(), disposeHandler: true);
        foreach (var action in factory.HttpClientActions)
        {
            if (totalInForce is not null && action.Target is DefaultTimeout)
            {
                continue;
            }

            action(probe);
        }

        return totalInForce is { } total && probe.Timeout == Unset ? DefaultFor(total) : probe.Timeout;
    }

    /// <summary>The last client action: HttpClient's default timeout, or none when the total timeout is longer; a type of its own so a replay can tell it apart.</summary>
    private sealed class DefaultTimeout(string clientName, IOptionsMonitor<HttpResilienceOptions> monitor)
    {
        public void Apply(HttpClient client)
        {
            if (client.Timeout == Unset)
            {
                client.Timeout = DefaultFor(monitor.Get(clientName).TotalTimeout);
            }
        }
    }
}
