using System.Net;
using Resilience.FaultInjection;

namespace Resilience.Http;

/// <summary>Builds a client's Core <see cref="FaultInjector"/> from <see cref="HttpFaultInjectionOptions"/>.</summary>
internal static class HttpFaultInjection
{
    public const double DefaultRate = 0.1;
    public const int DefaultStatusCode = 503;
    public static readonly TimeSpan DefaultLatency = TimeSpan.FromSeconds(2);

    /// <summary>The injector the client's pipelines share, or <see langword="null"/> when nothing is injected.</summary>
    public static FaultInjector? CreateInjector(HttpFaultInjectionOptions options)
    {
        if (options.Injector is { } own)
        {
            return own;
        }

        if (!options.Enabled)
        {
            return null;
        }

        var status = (HttpStatusCode)options.Response.StatusCode;
        var generator = options.EnabledGenerator;
        return new FaultInjector(new FaultInjectionOptions<HttpResponseMessage>
        {
            Enabled = true,
            ResultRate = options.Response.Enabled ? options.Response.Rate : 0,

            // Linked to its request, as a real response is: the retry predicate and the caller find the request from it.
            ResultGenerator = context => new HttpResponseMessage(status)
            {
                RequestMessage = HttpResilienceProperties.GetRequest(context),
                ReasonPhrase = "Injected fault",
                Content = new ByteArrayContent([]),
            },
            LatencyRate = options.Latency.Enabled ? options.Latency.Rate : 0,
            Latency = options.Latency.Delay,
            ExceptionRate = options.Exception.Enabled ? options.Exception.Rate : 0,

            // A connection failure to the classifier, so it is retried and counted as a real one would be.
            Exception = static () => new HttpRequestException("A fault was injected (fault injection is enabled on this client).", new InjectedFaultException()),
            EnabledGenerator = generator is null ? null : context => HttpResilienceProperties.GetRequest(context) is { } request && generator(request),
        });
    }
}
