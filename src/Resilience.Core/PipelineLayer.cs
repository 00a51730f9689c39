using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Resilience;

/// <summary>
/// Where a kind of layer sits in every pipeline, outermost first. The position belongs to the kind, not to the caller:
/// a rate limiter outside the total timeout so queueing is not billed to the call, the total timeout outside retry so it
/// bounds the retries and their delays, retry outside hedging so a retry runs a whole hedged round (a backoff never
/// swallows the hedge delay, and hedges never multiply retries), hedging outside the breaker so each hedged attempt asks
/// the breaker (and its own endpoint's), retry outside the breaker so each attempt asks the breaker, the attempt timeout
/// inside the breaker so a timed-out attempt counts as a failure, fault injection innermost so an injected fault meets
/// every strategy a real one would.
/// </summary>
/// <remarks>A new kind adds its value here and its case in <see cref="PipelineEngine"/>'s dispatch: its registration.</remarks>
internal enum LayerPosition
{
    RateLimiter,
    TotalTimeout,
    Retry,
    Hedging,
    CircuitBreaker,
    AttemptTimeout,
    FaultInjection,
}

/// <summary>One strategy of a built pipeline. Layers are immutable and shared by every call.</summary>
internal abstract class PipelineLayer
{
    /// <summary>The number of positions, i.e. the most layers a pipeline can have.</summary>
    public static readonly int PositionCount = Enum.GetValues<LayerPosition>().Length;

    protected PipelineLayer(PipelineLayerDescription description) => Description = description;

    /// <summary>Gets what <see cref="ResiliencePipeline.Describe"/> lists for this layer.</summary>
    /// <remarks>Virtual for a layer whose options can change after it was built (a shared breaker updated by a reload).</remarks>
    public virtual PipelineLayerDescription Description { get; }

    /// <summary>Lets a layer adapt to its neighbours once all are built (e.g. two timeouts sharing one timer).</summary>
    /// <param name="layers">Every layer of the pipeline, outermost first.</param>
    public virtual void Bind(PipelineLayer[] layers)
    {
    }

    /// <summary>Describes a layer of kind <paramref name="position"/>, its options formatted culture-invariantly.</summary>
    protected static PipelineLayerDescription Describe(LayerPosition position, FormattableString options) =>
        new(position.ToString(), options.ToString(CultureInfo.InvariantCulture));

    /// <summary>Finds the layer of type <typeparamref name="TLayer"/> among <paramref name="layers"/>.</summary>
    public static TLayer? Find<TLayer>(PipelineLayer[] layers)
        where TLayer : PipelineLayer
    {
        foreach (var layer in layers)
        {
            if (layer is TLayer found)
            {
                return found;
            }
        }

        return null;
    }
}

/// <summary>What a builder holds for one layer until the pipeline is built: the kind's validated configuration.</summary>
internal abstract class PipelineLayerSpec
{
    /// <summary>Gets the kind's fixed position.</summary>
    public abstract LayerPosition Position { get; }

    /// <summary>Creates the layer for one pipeline.</summary>
    public abstract PipelineLayer Create<TResult>(LayerContext<TResult> context);
}

/// <summary>What every layer of one pipeline is built with.</summary>
/// <typeparam name="TResult">The pipeline's result type (<see cref="object"/> for the untyped pipeline).</typeparam>
internal sealed class LayerContext<TResult>
{
    private readonly PipelineLayerSpec?[] _specs;

    public LayerContext(string name, TimeProvider timeProvider, Random random, ILogger logger, IMeterFactory? meterFactory, Func<TResult, bool>? shouldHandleResult, PipelineLayerSpec?[] specs)
    {
        Name = name;
        TimeProvider = timeProvider;
        Random = random;
        Logger = logger;
        MeterFactory = meterFactory;
        ShouldHandleResult = shouldHandleResult;
        _specs = specs;
    }

    public string Name { get; }

    public TimeProvider TimeProvider { get; }

    /// <summary>Gets the random source of jitter and injected faults.</summary>
    public Random Random { get; }

    public ILogger Logger { get; }

    /// <summary>Gets the factory of the meter the layers report on; the static meter when <see langword="null"/>.</summary>
    public IMeterFactory? MeterFactory { get; }

    /// <summary>Gets which results count as failures, if the pipeline says.</summary>
    public Func<TResult, bool>? ShouldHandleResult { get; }

    /// <summary>Gets the configuration of the layer at <paramref name="position"/>, for rules that span two layers.</summary>
    public PipelineLayerSpec? SpecAt(LayerPosition position) => _specs[(int)position];
}
