using Resilience.DependencyInjection;

namespace Resilience.Npgsql;

/// <summary>The configuration keys of <see cref="NpgsqlResilienceOptions"/>, bound by Core's one binder; the nested groups reuse Core's keys.</summary>
internal static class NpgsqlOptionsSchema
{
    public static readonly OptionsSchema<QueryTimeoutOptions> QueryTimeouts = new(
        ("StatementTimeout", static (o, k, e) => o.StatementTimeout = OptionsValue.TimeSpan(k, e, o.StatementTimeout)),
        ("LockTimeout", static (o, k, e) => o.LockTimeout = OptionsValue.OptionalTimeSpan(k, e, o.LockTimeout)),
        ("CommandTimeoutMargin", static (o, k, e) => o.CommandTimeoutMargin = OptionsValue.TimeSpan(k, e, o.CommandTimeoutMargin)));

    public static readonly OptionsSchema<NpgsqlConcurrencyLimitOptions> ConcurrencyLimit = new(
        ("Enabled", static (o, k, e) => o.Enabled = OptionsValue.Bool(k, e, o.Enabled)),
        ("MaxLimit", static (o, k, e) => o.MaxLimit = OptionsValue.OptionalInt(k, e, o.MaxLimit)),
        ("MinLimit", static (o, k, e) => o.MinLimit = OptionsValue.OptionalInt(k, e, o.MinLimit)),
        ("InitialLimit", static (o, k, e) => o.InitialLimit = OptionsValue.OptionalInt(k, e, o.InitialLimit)),
        ("QueueLimit", static (o, k, e) => o.QueueLimit = OptionsValue.OptionalInt(k, e, o.QueueLimit)),
        ("MaxQueueWait", static (o, k, e) => o.MaxQueueWait = OptionsValue.TimeSpan(k, e, o.MaxQueueWait)),
        ("Tolerance", static (o, k, e) => o.Tolerance = OptionsValue.Double(k, e, o.Tolerance)),
        ("SheddableShare", static (o, k, e) => o.SheddableShare = OptionsValue.Double(k, e, o.SheddableShare)));

    public static readonly OptionsSchema<NpgsqlResilienceOptions> Options = new(

        // An empty name keeps the default (or the key of a keyed registration).
        ("Name", static (o, k, e) => o.Name = OptionsValue.String(k, e, o.Name) is { Length: > 0 } name ? name : o.Name),
        ("TotalTimeout", static (o, k, e) => o.TotalTimeout = OptionsValue.OptionalTimeSpan(k, e, o.TotalTimeout)),
        ("DriverLogLevel", static (o, k, e) => o.DriverLogLevel = OptionsValue.Enum(k, e, o.DriverLogLevel)),
        ("ApplyQueryTimeoutsToDataSource", static (o, k, e) => o.ApplyQueryTimeoutsToDataSource = OptionsValue.Bool(k, e, o.ApplyQueryTimeoutsToDataSource)),
        ("MaxWaitingCalls", static (o, k, e) => o.MaxWaitingCalls = OptionsValue.OptionalInt(k, e, o.MaxWaitingCalls)),
        ("RecoveryProbeInterval", static (o, k, e) => o.RecoveryProbeInterval = OptionsValue.TimeSpan(k, e, o.RecoveryProbeInterval)),
        ("ConcurrencyLimit", static (o, k, e) => OptionsValue.Section(k, e, o.ConcurrencyLimit, ConcurrencyLimit)),
        ("QueryTimeouts", static (o, k, e) => OptionsValue.Section(k, e, o.QueryTimeouts, QueryTimeouts)),
        ("Retry", static (o, k, e) => OptionsValue.Section(k, e, o.Retry, OptionsSchemas.Retry)),
        ("CircuitBreaker", static (o, k, e) => OptionsValue.Section(k, e, o.CircuitBreaker, OptionsSchemas.CircuitBreaker)),
        ("PoolHealth", static (o, k, e) => OptionsValue.Section(k, e, o.PoolHealth, OptionsSchemas.PoolHealth)));
}
