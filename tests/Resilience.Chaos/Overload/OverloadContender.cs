using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Polly;
using Resilience.AdaptiveConcurrency;
using Resilience.AdaptiveThrottling;

namespace Resilience.Chaos.Overload;

/// <summary>A client-side protection to drive into the overloaded server: how it is added to a named <see cref="HttpClient"/>.</summary>
/// <param name="Name">The row's name in the table.</param>
/// <param name="AddProtection">Adds the protection to the client's builder, knowing the server (a static limit is set from its worker count).</param>
internal sealed record OverloadContender(string Name, Action<IHttpClientBuilder, OverloadServer> AddProtection)
{
    /// <summary>Gets the bare client: every call goes to the server.</summary>
    public static OverloadContender None { get; } = new("no protection", static (_, _) => { });

    /// <summary>Gets a static concurrency limit equal to the server's worker count, no queue: what an operator who measured the server would set.</summary>
    public static OverloadContender StaticRight { get; } = new("static limit = workers", static (b, s) => AddStaticLimit(b, s.Workers));

    /// <summary>Gets a static concurrency limit four times the server's worker count, no queue.</summary>
    public static OverloadContender StaticTooHigh { get; } = new("static limit = 4 × workers", static (b, s) => AddStaticLimit(b, 4 * s.Workers));

    /// <summary>Gets Microsoft.Extensions.Http.Resilience's standard handler with its defaults (its concurrency limiter is 1,000).</summary>
    public static OverloadContender MicrosoftStandard { get; } = new("Microsoft standard handler", static (b, _) => b.AddStandardResilienceHandler());

    /// <summary>Gets Polly's concurrency limiter as its documentation configures it (100 permits, a queue of 50).</summary>
    public static OverloadContender PollyConcurrency { get; } = new(
        "Polly concurrency limiter (100, queue 50)",
        static (b, _) => b.AddResilienceHandler("polly", static p => p.AddConcurrencyLimiter(100, 50)));

    /// <summary>Gets our adaptive concurrency limit with its defaults, and the caller's deadline as the pipeline's attempt timeout.</summary>
    public static OverloadContender OursAdaptive { get; } = new("ours: adaptive limit", static (b, _) => b.AddHttpMessageHandler(() => new PipelineHandler(Build(throttling: false))));

    /// <summary>Gets our adaptive concurrency limit and adaptive throttling, both with their defaults.</summary>
    public static OverloadContender OursAdaptiveThrottled { get; } = new("ours: adaptive limit + throttling", static (b, _) => b.AddHttpMessageHandler(() => new PipelineHandler(Build(throttling: true))));

    /// <summary>Gets every row of the sweep, in the table's order.</summary>
    public static IReadOnlyList<OverloadContender> All { get; } = [None, StaticRight, StaticTooHigh, MicrosoftStandard, PollyConcurrency, OursAdaptive, OursAdaptiveThrottled];

    public override string ToString() => Name;

    private static void AddStaticLimit(IHttpClientBuilder builder, int permits) =>
        builder.AddHttpMessageHandler(() => new StaticLimitHandler(new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 })));

    private static ResiliencePipeline<HttpResponseMessage> Build(bool throttling)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>("overload")
            .ShouldHandleResult(static r => (int)r.StatusCode is 429 or >= 500)
            .AddAdaptiveConcurrencyLimit(new AdaptiveConcurrencyOptions())

            // The caller's 1 s deadline, as a user of ours states it; an attempt timeout (not a total one) so the
            // throttling layer, which sits inside the total timeout, sees the timeout as "not accepted".
            .AddAttemptTimeout(OverloadDriver.Deadline);
        if (throttling)
        {
            builder.AddAdaptiveThrottling(new AdaptiveThrottlingOptions());
        }

        return builder.Build();
    }

    /// <summary>Sends through one of our pipelines; a refusal or timeout is thrown to the caller as the exception it is.</summary>
    private sealed class PipelineHandler(ResiliencePipeline<HttpResponseMessage> pipeline) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            await pipeline.ExecuteAsync(
                static (state, token) => new ValueTask<HttpResponseMessage>(state.Handler.SendBase(state.Request, token)),
                (Handler: this, Request: request),
                cancellationToken).ConfigureAwait(false);

        private Task<HttpResponseMessage> SendBase(HttpRequestMessage request, CancellationToken cancellationToken) => base.SendAsync(request, cancellationToken);
    }

    /// <summary>A fixed concurrency limit from System.Threading.RateLimiting, refusing at once when full.</summary>
    private sealed class StaticLimitHandler(ConcurrencyLimiter limiter) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var lease = limiter.AttemptAcquire();
            if (!lease.IsAcquired)
            {
                throw new RateLimiterRejectedException();
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                limiter.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class RateLimiterRejectedException() : Exception("static concurrency limit reached");
}
