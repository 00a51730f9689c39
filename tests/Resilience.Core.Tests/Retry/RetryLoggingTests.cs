using Microsoft.Extensions.Logging;
using Resilience.Retry;
using Resilience.Telemetry;
using Resilience.Testing;

namespace Resilience.Core.Tests.Retry;

/// <summary>A retry is routine: it logs at Debug without a stack trace; only the call that gives up logs the exception.</summary>
public sealed class RetryLoggingTests : IDisposable
{
    private readonly CapturingLogger _log = new();

    public void Dispose() => _log.Dispose();

    [Fact]
    public async Task Retries_LogAtDebugWithoutException_GivingUpLogsWarningWithException()
    {
        using var loggerFactory = new LoggerFactory([_log]);
        var pipeline = new ResiliencePipelineBuilder("api") { LoggerFactory = loggerFactory }
            .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero, Jitter = RetryJitter.None })
            .Build();
        var outcome = await pipeline.ExecuteOutcomeAsync(
            static (counter, _) => ValueTask.FromException<int>(new TimeoutException("attempt " + Interlocked.Increment(ref counter.Value))),
            new Counter(), CancellationToken.None);

        Assert.IsType<TimeoutException>(outcome.Exception);
        var scheduled = _log.Entries.Where(static e => e.EventId.Id == ResilienceEventIds.RetryScheduled).ToList();
        Assert.Equal(2, scheduled.Count);
        Assert.All(scheduled, static e =>
        {
            Assert.Equal(LogLevel.Debug, e.Level);
            Assert.Null(e.Exception);
            Assert.Contains("TimeoutException: attempt ", e.Message, StringComparison.Ordinal);
        });
        var exhausted = Assert.Single(_log.Entries, static e => e.EventId.Id == ResilienceEventIds.RetriesExhausted);
        Assert.Equal(LogLevel.Warning, exhausted.Level);
        Assert.Equal("attempt 3", Assert.IsType<TimeoutException>(exhausted.Exception).Message);
    }

    private sealed class Counter
    {
        public int Value;
    }
}
