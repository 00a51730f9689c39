using System.Globalization;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace Resilience.Http;

/// <summary>
/// Keeps <see cref="HttpClient.Timeout"/> from cutting the handler's total timeout short without ever overriding a value
/// the user set: HttpClient's default is adjusted, a user's shorter value fails validation (at start-up with a host).
/// </summary>
/// <remarks>
/// Whether the user set the timeout is told by a sentinel: the first client action sets it, the last one replaces it
/// if it is still there. Both are added in <c>PostConfigure</c>, so they wrap every <c>ConfigureHttpClient</c>,
/// whichever order the user called them in.
/// </remarks>
internal sealed class HttpClientTimeoutGuard(string clientName, string keyPrefix, IOptionsMonitor<HttpResilienceOptions> options)
    : IValidateOptions<HttpClientFactoryOptions>
{
    // HttpClient's own default, and a value no one sets by hand that stands for "not set".
    private static readonly TimeSpan HttpClientDefault = TimeSpan.FromSeconds(100);
    private static readonly TimeSpan Unset = TimeSpan.FromSeconds(100) + TimeSpan.FromTicks(7);

    public static void Install(HttpClientFactoryOptions factory, string clientName, IOptionsMonitor<HttpResilienceOptions> monitor)
    {
        factory.HttpClientActions.Insert(0, static client => client.Timeout = Unset);
        factory.HttpClientActions.Add(client =>
        {
            if (client.Timeout == Unset)
            {
                client.Timeout = monitor.Get(clientName).TotalTimeout > HttpClientDefault ? Timeout.InfiniteTimeSpan : HttpClientDefault;
            }
        });
    }

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
            total = options.Get(clientName).TotalTimeout;

            // The client's own configuration, replayed on a client that never sends, gives the timeout CreateClient will set.
            using var probe = new HttpClient(new HttpClientHandler(), disposeHandler: true);
            foreach (var action in factory.HttpClientActions)
            {
                action(probe);
            }

            timeout = probe.Timeout;
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
            $"{keyPrefix}: HttpClient.Timeout ({timeout:c}) of the client '{clientName}' is shorter than TotalTimeout ({total:c}); it would cancel requests mid-retry as if the caller had, so they would be neither retried nor reported. Set TotalTimeout to at most {timeout:c}, or HttpClient.Timeout to at least {total:c} or Timeout.InfiniteTimeSpan."));
    }
}
