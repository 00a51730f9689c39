using System.Threading.RateLimiting;
using Resilience.Retry;

namespace Resilience.Reload;

/// <summary>
/// What a rebuilt pipeline takes over from the one it replaces, so a reload resets no state whose settings did not
/// change: the concurrency limiter (its permits in use), the retry budget (its tokens) and the retry statistics. The
/// circuit breaker needs nothing here: it is the container's named breaker, the same instance in every rebuild.
/// </summary>
internal sealed class PipelineCarry : IDisposable
{
    private ConcurrencyLimiter? _limiter;
    private (int Limit, int Queue) _limiterSettings;
    private RetryBudget? _budget;
    private (double MaxTokens, double Deposit, int MinPerSecond) _budgetSettings;

    /// <summary>Gets the retry counters, kept across reloads.</summary>
    public RetryStatistics Statistics { get; } = new();

    /// <summary>Returns the limiter in use when its settings are these, else a new one (calls under way release permits of the old one).</summary>
    public ConcurrencyLimiter Limiter(int limit, int queue)
    {
        if (_limiter is null || _limiterSettings != (limit, queue))
        {
            _limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = limit, QueueLimit = queue });
            _limiterSettings = (limit, queue);
        }

        return _limiter;
    }

    /// <summary>Returns the budget in use when its settings are these, else a new, full one.</summary>
    public RetryBudget Budget(RetryBudgetOptions options, TimeProvider timeProvider)
    {
        var settings = (options.MaxTokens, options.DepositPerSuccess, options.MinRetriesPerSecond);
        if (_budget is null || _budgetSettings != settings)
        {
            _budget = new RetryBudget(options, timeProvider);
            _budgetSettings = settings;
        }

        return _budget;
    }

    /// <summary>Disposes the limiter in use; one replaced by a reload is left to calls still holding its permits.</summary>
    public void Dispose() => _limiter?.Dispose();
}
