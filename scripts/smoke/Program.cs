// Compiled by scripts/package-smoke.sh against the packed packages, as a user's first program would be.
using System.Net;
using Resilience;
using Resilience.CircuitBreaking;
using Resilience.Failures;
using Resilience.Fallback;
using Resilience.Retry;
using Resilience.Http;
using Resilience.Npgsql;

var checks = 0;
void Check(bool condition, string what)
{
    checks++;
    if (!condition)
    {
        Console.Error.WriteLine("smoke check failed: " + what);
        Environment.Exit(1);
    }
}

var ok = Outcome.FromResult("hello");
Check(ok.GetResultOrThrow() == "hello", "Outcome.FromResult round-trips");
var failed = Outcome.FromException<string>(new TimeoutException("slow"));
Check(failed.HasException && failed.Exception is TimeoutException, "Outcome.FromException keeps the exception");

Check(PostgresFailureClassifier.ClassifySqlState("23505") == FailureKind.Conflict, "23505 is a conflict");
Check(ErrorIds.For(PostgresFailureClassifier.ClassifySqlState("57014")) == ErrorIds.Timeout, "57014 maps to ERR_TIMEOUT");
Check(HttpFailureClassifier.IsTransient(HttpStatusCode.ServiceUnavailable), "503 is transient");
Check(!HttpFailureClassifier.IsTransient(HttpStatusCode.NotFound), "404 is not transient");

// A pipeline with every slot: a flaky call succeeds on retry, then an isolated circuit is answered from the cache.
var breaker = new CircuitBreaker("smoke", new CircuitBreakerOptions { FailureThreshold = 5 });
var pipeline = new ResiliencePipelineBuilder<int>("smoke")
    .AddFallback(new CachedFallback<string, int>("smoke", new CachedFallbackOptions { MaxStaleness = TimeSpan.FromMinutes(1) }))
    .AddTotalTimeout(TimeSpan.FromSeconds(10))
    .AddRetry(new RetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero })
    .AddCircuitBreaker(breaker)
    .AddAttemptTimeout(TimeSpan.FromSeconds(5))
    .Build();
var attempts = 0;
var value = await pipeline.ExecuteAsync(_ => ++attempts < 2 ? ValueTask.FromException<int>(new TimeoutException()) : new ValueTask<int>(7), CancellationToken.None);
Check(value == 7 && attempts == 2, "retry recovers a transient failure");
breaker.Isolate();
var stale = await pipeline.ExecuteWithFallbackAsync("", static (_, _) => new ValueTask<int>(0), 0, CancellationToken.None);
Check(stale.IsStale && stale.Value == 7, "an open circuit is answered by the cached fallback");
Check(breaker.GetSnapshot().Rejections == 1, "the breaker counted the rejection");

Console.WriteLine($"smoke: {checks} checks passed");
