namespace Resilience.Npgsql;

/// <summary>What <see cref="NpgsqlResilienceOptions.OnRetry"/> is told before a failed database call is tried again.</summary>
public sealed class DbRetryInfo
{
    internal DbRetryInfo(string name, int attempt, DatabaseException failure)
    {
        Name = name;
        Attempt = attempt;
        Failure = failure;
    }

    /// <summary>Gets the data source's name (<see cref="NpgsqlResilienceOptions.Name"/>).</summary>
    public string Name { get; }

    /// <summary>Gets the number of the attempt about to run: 2 for the first retry.</summary>
    public int Attempt { get; }

    /// <summary>Gets the failure of the previous attempt (translated, sanitized).</summary>
    public DatabaseException Failure { get; }
}

/// <summary>Counts one call's attempts and tells the observer before each retry; created only when an observer is set.</summary>
internal sealed class RetryObserver(string name, Action<DbRetryInfo> onRetry)
{
    private int _attempts;
    private DatabaseException? _lastFailure;

    public void BeforeAttempt()
    {
        if (++_attempts > 1 && _lastFailure is { } failure)
        {
            onRetry(new DbRetryInfo(name, _attempts, failure));
        }
    }

    public void Failed(DatabaseException failure) => _lastFailure = failure;
}
