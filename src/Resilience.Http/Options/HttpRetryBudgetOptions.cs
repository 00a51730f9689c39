using System.ComponentModel.DataAnnotations;
using Resilience.Retry;

namespace Resilience.Http;

/// <summary>Options of the retry budget: a token bucket per authority that caps the extra load retries put on a failing upstream.</summary>
/// <remarks>
/// Each successful request deposits <see cref="DepositPerSuccess"/> of a token, each retry withdraws one, and
/// <see cref="MinRetriesPerSecond"/> retries per second are allowed even when the bucket is empty. When a retry is due
/// and the budget is empty, the request gives up with <see cref="HttpResilienceOutcome.RetryBudgetExhausted"/>.
/// </remarks>
public sealed class HttpRetryBudgetOptions
{
    /// <summary>Gets or sets a value indicating whether retries are limited by a budget.</summary>
    /// <value>Defaults to <see langword="true"/>: during an outage retries stop multiplying the load once the burst is spent.</value>
    public bool Enabled { get; set; } = HttpResilienceDefaults.RetryBudgetEnabled;

    /// <summary>Gets or sets the most tokens the bucket holds: the largest burst of retries; the bucket starts full.</summary>
    /// <value>Defaults to 10. Between 0.001 and 1,000,000; at least <see cref="DepositPerSuccess"/>.</value>
    [Range(HttpResilienceDefaults.MinBudgetTokens, HttpResilienceDefaults.MaxBudgetTokens)]
    public double MaxTokens { get; set; } = HttpResilienceDefaults.RetryBudgetMaxTokens;

    /// <summary>Gets or sets the fraction of a token each successful request deposits.</summary>
    /// <value>Defaults to 0.1, so retries add at most about 10 % to the successful load. Between 0.000001 and 1,000.</value>
    [Range(HttpResilienceDefaults.MinBudgetDeposit, HttpResilienceDefaults.MaxBudgetDeposit)]
    public double DepositPerSuccess { get; set; } = HttpResilienceDefaults.RetryBudgetDepositPerSuccess;

    /// <summary>Gets or sets how many retries per second are allowed even when the bucket is empty.</summary>
    /// <value>Defaults to 1, so a quiet client can still retry. Between 0 and 1,000,000.</value>
    [Range(0, HttpResilienceDefaults.MaxBudgetMinRetriesPerSecond)]
    public int MinRetriesPerSecond { get; set; } = HttpResilienceDefaults.RetryBudgetMinRetriesPerSecond;

    /// <summary>Gets or sets a budget of your own that every authority of the client draws on, in place of one bucket each made from these options.</summary>
    /// <value>Defaults to <see langword="null"/>: each authority (or, in shared scope, the client) gets its own bucket. Not bindable from configuration.</value>
    /// <remarks>
    /// Give the same <see cref="RetryBudget"/> to several clients, or make it cluster-wide first
    /// (<c>ClusterCoordinator.ShareRetryBudget</c>), and they all draw on one bucket. Its size and deposit are its own
    /// options: <see cref="MaxTokens"/>, <see cref="DepositPerSuccess"/> and <see cref="MinRetriesPerSecond"/> are not used
    /// then. <see cref="Enabled"/> still turns the budget off.
    /// </remarks>
    public RetryBudget? Budget { get; set; }
}
