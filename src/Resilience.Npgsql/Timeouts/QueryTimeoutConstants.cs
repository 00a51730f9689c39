namespace Resilience.Npgsql;

/// <summary>Defaults and limits of <see cref="QueryTimeoutOptions"/>, used by the initializers, the validation and the docs.</summary>
internal static class QueryTimeoutConstants
{
    public static readonly TimeSpan DefaultStatementTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan MinStatementTimeout = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaxStatementTimeout = TimeSpan.FromHours(1);
    public static readonly TimeSpan DefaultCommandTimeoutMargin = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxCommandTimeoutMargin = TimeSpan.FromMinutes(1);

    /// <summary>How long Npgsql waits for the server to confirm a client-side cancellation before it breaks the connection.</summary>
    public const int BoundedCancellationTimeoutMilliseconds = 2000;
}
