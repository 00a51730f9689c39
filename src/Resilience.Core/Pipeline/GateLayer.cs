using System.Runtime.ExceptionServices;

namespace Resilience;

/// <summary>
/// A layer that decides before the rest of the call and records after it, without wrapping it: a circuit breaker is one.
/// The engine runs a gate inline (<see cref="GateRun"/>), so a pipeline of one gate costs little more than the gate's own
/// bookkeeping, and every gate shares one piece of glue instead of each kind keeping its own acquire → run → record.
/// </summary>
internal abstract class GateLayer : PipelineLayer
{
    protected GateLayer(LayerKind kind, object options, FormattableString summary)
        : base(kind, options, summary)
    {
    }

    /// <summary>Asks to let the call through; never throws, and allocates nothing for a refusal it has met before.</summary>
    /// <param name="token">What <see cref="Exit"/> needs to record the call; meaningless when refused.</param>
    /// <param name="rejection">The refusal, when the call may not proceed.</param>
    /// <returns><see langword="true"/> when the call may proceed; <see cref="Exit"/> must then follow.</returns>
    public abstract bool TryEnter(out GateToken token, out ExceptionDispatchInfo? rejection);

    /// <summary>Records how the call admitted with <paramref name="token"/> ended.</summary>
    /// <param name="token">The token <see cref="TryEnter"/> gave.</param>
    /// <param name="exception">The call's exception, if it failed with one.</param>
    /// <param name="resultFailed">Whether the call's result counts as a failure (the pipeline's result rule said so).</param>
    /// <param name="cancellationToken">The attempt's token: an exception caused by its cancellation is not the dependency's fault.</param>
    public abstract void Exit(in GateToken token, Exception? exception, bool resultFailed, CancellationToken cancellationToken);
}
