using System.Collections.Concurrent;

namespace Resilience;

/// <summary>Hands out <see cref="ResilienceContext"/> instances for reuse, so a call with a context allocates nothing.</summary>
/// <example>
/// <code>
/// var context = ResilienceContextPool.Shared.Get("prices:EUR", cancellationToken);
/// try
/// {
///     return await pipeline.ExecuteAsync(static (ctx, client) => client.GetPriceAsync(ctx.CancellationToken), context, client);
/// }
/// finally
/// {
///     ResilienceContextPool.Shared.Return(context);
/// }
/// </code>
/// </example>
public sealed class ResilienceContextPool
{
    private const int MaxPooled = 1024;

    // Most calls rent and return on one thread; the per-thread slot serves them without any interlocked operation.
    [ThreadStatic]
    private static ResilienceContext? t_cached;

    private readonly ConcurrentQueue<ResilienceContext> _pool = new();
    private int _count;

    private ResilienceContextPool()
    {
    }

    /// <summary>Gets the process-wide pool.</summary>
    public static ResilienceContextPool Shared { get; } = new();

    /// <summary>Gets a context for one call.</summary>
    /// <param name="operationKey">The operation's key (the cached fallback's key; a tag for telemetry enrichment).</param>
    /// <param name="cancellationToken">The caller's token.</param>
    /// <returns>A context; return it with <see cref="Return"/> when the call has ended.</returns>
    public ResilienceContext Get(string? operationKey = null, CancellationToken cancellationToken = default) =>
        Get(operationKey, isSynchronous: false, cancellationToken);

    internal ResilienceContext Get(string? operationKey, bool isSynchronous, CancellationToken cancellationToken)
    {
        var context = t_cached;
        if (context is not null)
        {
            t_cached = null;
        }
        else if (_pool.TryDequeue(out context))
        {
            Interlocked.Decrement(ref _count);
        }
        else
        {
            context = new ResilienceContext();
        }

        context.Initialize(operationKey, isSynchronous, cancellationToken);
        return context;
    }

    /// <summary>Returns <paramref name="context"/> for reuse; it must not be used afterwards.</summary>
    /// <param name="context">A context from <see cref="Get(string?, CancellationToken)"/>.</param>
    public void Return(ResilienceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Reset();
        if (t_cached is null)
        {
            t_cached = context;
        }
        else if (Interlocked.Increment(ref _count) <= MaxPooled)
        {
            _pool.Enqueue(context);
        }
        else
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
