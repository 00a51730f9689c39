namespace Resilience.Npgsql;

/// <summary>Stable IDs of the PostgreSQL adapter's log events (range 2000–2099), so log queries never break.</summary>
public static class NpgsqlResilienceEventIds
{
    /// <summary>A write's outcome is unknown: the connection failed while its transaction was committing (Warning).</summary>
    public const int UnknownOutcome = 2000;

    /// <summary>A registered database was set up: what its retry and circuit breaker do, in the mode they run in (Information).</summary>
    public const int Configured = 2001;

    /// <summary>The registered <c>NpgsqlDataSource</c>'s connections start with <c>statement_timeout</c> and <c>lock_timeout</c>, which also limit commands run on it directly (Information).</summary>
    public const int DataSourceLimits = 2002;

    /// <summary>The name of the counter of unknown outcomes on the <c>Resilience</c> meter (tag <c>resilience.name</c> = the data source).</summary>
    public const string UnknownOutcomesInstrument = "resilience.npgsql.unknown_outcomes";
}
