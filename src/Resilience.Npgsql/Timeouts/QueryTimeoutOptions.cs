using Microsoft.Extensions.Options;
using Resilience.DependencyInjection;

namespace Resilience.Npgsql;

/// <summary>Server- and client-side time limits for one database call.</summary>
/// <remarks>
/// The server's <c>statement_timeout</c> and <c>lock_timeout</c> stop the query on the server. The data source's defaults are
/// start-up options of each physical connection (<see cref="NpgsqlDataSourceTimeoutExtensions.UseQueryTimeouts"/>); limits that
/// differ are set with <c>set_config(..., is_local: true)</c> inside the call's transaction, so they end with it (they never
/// leak to the next user of the pooled connection). The client's command timeout is the statement timeout plus
/// <see cref="CommandTimeoutMargin"/>, so the server normally answers first and the connection stays usable.
/// </remarks>
public sealed class QueryTimeoutOptions
{
    /// <summary>Gets or sets the server-side limit per statement (<c>statement_timeout</c>).</summary>
    /// <value>Defaults to 5 seconds; between 1 ms and 1 hour.</value>
    public TimeSpan StatementTimeout { get; set; } = QueryTimeoutConstants.DefaultStatementTimeout;

    /// <summary>Gets or sets the server-side limit for waiting on a lock (<c>lock_timeout</c>).</summary>
    /// <value>Defaults to <see langword="null"/>: half of <see cref="StatementTimeout"/>. Must be positive and not above it.</value>
    public TimeSpan? LockTimeout { get; set; }

    /// <summary>Gets or sets how much longer than <see cref="StatementTimeout"/> the client waits before it gives up itself.</summary>
    /// <value>Defaults to 1 second; between 0 and 1 minute. The client timeout is rounded up to whole seconds.</value>
    public TimeSpan CommandTimeoutMargin { get; set; } = QueryTimeoutConstants.DefaultCommandTimeoutMargin;

    /// <summary>Gets the lock timeout in effect.</summary>
    internal TimeSpan EffectiveLockTimeout => LockTimeout ?? TimeSpan.FromMilliseconds(Math.Max(1, (long)(StatementTimeout.TotalMilliseconds / 2)));

    /// <summary>Gets the client command timeout in whole seconds (Npgsql's unit), never below 1.</summary>
    internal int CommandTimeoutSeconds => Math.Max(1, (int)Math.Ceiling((StatementTimeout + CommandTimeoutMargin).TotalSeconds));

    /// <summary>Checks every setting and throws one exception listing every rule broken.</summary>
    /// <exception cref="OptionsValidationException">A setting is out of range; the message names each key and rule.</exception>
    public void Validate()
    {
        var result = QueryTimeoutOptionsValidator.Instance.Validate(Options.DefaultName, this);
        if (result.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(QueryTimeoutOptions), result.Failures);
        }
    }

    internal QueryTimeoutOptions Clone() => (QueryTimeoutOptions)MemberwiseClone();
}

/// <summary>Validates <see cref="QueryTimeoutOptions"/>, listing every broken rule with its key.</summary>
internal sealed class QueryTimeoutOptionsValidator : IValidateOptions<QueryTimeoutOptions>
{
    public static readonly QueryTimeoutOptionsValidator Instance = new();

    public ValidateOptionsResult Validate(string? name, QueryTimeoutOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new OptionsErrors();
        Collect(options, string.Empty, errors);
        return errors.ToResult();
    }

    /// <summary>Checks <paramref name="options"/>, reporting each broken rule as <c>{section}:{Key}: {rule}</c>.</summary>
    public static void Collect(QueryTimeoutOptions options, string section, OptionsErrors errors)
    {
        if (options.StatementTimeout < QueryTimeoutConstants.MinStatementTimeout || options.StatementTimeout > QueryTimeoutConstants.MaxStatementTimeout)
        {
            errors.Add(section, nameof(QueryTimeoutOptions.StatementTimeout), $"must be between {QueryTimeoutConstants.MinStatementTimeout} and {QueryTimeoutConstants.MaxStatementTimeout} (was {options.StatementTimeout}).");
        }

        if (options.LockTimeout is { } lockTimeout && (lockTimeout <= TimeSpan.Zero || lockTimeout > options.StatementTimeout))
        {
            errors.Add(section, nameof(QueryTimeoutOptions.LockTimeout), $"must be positive and not above {nameof(QueryTimeoutOptions.StatementTimeout)} (was {lockTimeout}).");
        }

        if (options.CommandTimeoutMargin < TimeSpan.Zero || options.CommandTimeoutMargin > QueryTimeoutConstants.MaxCommandTimeoutMargin)
        {
            errors.Add(section, nameof(QueryTimeoutOptions.CommandTimeoutMargin), $"must be between 0 and {QueryTimeoutConstants.MaxCommandTimeoutMargin} (was {options.CommandTimeoutMargin}).");
        }
    }
}
