using System.Collections.Concurrent;
using Resilience.Cluster;
using Resilience.Http;
using Resilience.Retry;

namespace ContentService.Cluster;

/// <summary>
/// One cluster-wide retry budget per LLM client, handed to its HTTP handler (<see cref="HttpRetryBudgetOptions.Budget"/>):
/// a provider failing for every instance sees one bucket's retries, not one per instance.
/// </summary>
/// <remarks>The bucket's size and deposit are the client's <c>RetryBudget</c> settings when its budget is first made (every
/// instance reads the same configuration); a reload that changes them keeps the budget as it is.</remarks>
internal sealed class ProviderRetryBudgets(ClusterCoordinator coordinator, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, RetryBudget> _budgets = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The shared budgets by client, for the status page.</summary>
    public IEnumerable<KeyValuePair<string, RetryBudget>> Budgets => _budgets;

    /// <summary>Returns <paramref name="client"/>'s budget, made from <paramref name="settings"/> and shared with the cluster on first use.</summary>
    public RetryBudget For(string client, HttpRetryBudgetOptions settings)
    {
        if (_budgets.TryGetValue(client, out var budget))
        {
            return budget;
        }

        lock (_gate)
        {
            if (!_budgets.TryGetValue(client, out budget))
            {
                budget = new RetryBudget(
                    new RetryBudgetOptions
                    {
                        MaxTokens = settings.MaxTokens,
                        DepositPerSuccess = settings.DepositPerSuccess,
                        MinRetriesPerSecond = settings.MinRetriesPerSecond,
                    },
                    time);
                coordinator.ShareRetryBudget(budget, client);
                _budgets[client] = budget;
            }

            return budget;
        }
    }
}
