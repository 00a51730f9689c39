// Compiled by scripts/package-smoke.sh against the packed packages, as a user's first program would be.
using System.Net;
using Resilience;
using Resilience.Failures;
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

Console.WriteLine($"smoke: {checks} checks passed");
