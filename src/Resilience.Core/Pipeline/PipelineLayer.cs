using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Resilience;

/// <summary>One strategy of a built pipeline. Layers are immutable and shared by every call.</summary>
internal abstract class PipelineLayer
{
    private readonly FormattableString _summary;

    /// <param name="kind">The kind, i.e. the layer's place in the order.</param>
    /// <param name="options">What <see cref="PipelineLayerDescriptor.Options"/> shows: the kind's options object.</param>
    /// <param name="summary">The options as <c>Key=value</c> pairs, for <see cref="PipelineLayerDescriptor.Summary"/>.</param>
    protected PipelineLayer(LayerKind kind, object options, FormattableString summary)
    {
        Kind = kind;
        Options = options;
        _summary = summary;
    }

    public LayerKind Kind { get; }

    /// <summary>Gets the options object the layer was built from.</summary>
    /// <remarks>Virtual for a layer whose options can change after it was built (a shared breaker updated by a reload).</remarks>
    public virtual object Options { get; }

    /// <summary>Gets a value indicating whether the layer reads the call's deadline (so a total timeout must set it).</summary>
    public virtual bool ReadsDeadline => false;

    /// <summary>Gets a value indicating whether the layer arms a timer that also enforces the call's deadline.</summary>
    public virtual bool EnforcesDeadline => false;

    /// <summary>Lets a layer adapt to the facts of its neighbours once all are built (e.g. two timeouts sharing one timer).</summary>
    /// <param name="layers">Every layer of the pipeline, outermost first.</param>
    public virtual void Bind(PipelineLayer[] layers)
    {
    }

    /// <summary>Describes the layer for <see cref="ResiliencePipeline.Describe"/>.</summary>
    public virtual PipelineLayerDescriptor Describe() =>
        new(LayerKinds.Names[(int)Kind], Options, _summary.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether any of <paramref name="layers"/> has <paramref name="fact"/>.</summary>
    protected static bool Any(PipelineLayer[] layers, Func<PipelineLayer, bool> fact)
    {
        foreach (var layer in layers)
        {
            if (fact(layer))
            {
                return true;
            }
        }

        return false;
    }

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

/// <summary>What a builder holds for one kind until the pipeline is built: the kind's validated configuration.</summary>
internal abstract class PipelineLayerSpec
{
    /// <summary>Gets the kind, i.e. the slot the spec fills.</summary>
    public abstract LayerKind Kind { get; }

    /// <summary>Creates the layer for one pipeline.</summary>
    public abstract PipelineLayer Create<TResult>(LayerContext<TResult> context);

    /// <summary>Adds the spec's layers to <paramref name="layers"/>: one, unless the slot holds several (custom layers).</summary>
    public virtual void AddTo<TResult>(List<PipelineLayer> layers, LayerContext<TResult> context) => layers.Add(Create(context));
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

    /// <summary>Gets the configuration of the kind <paramref name="kind"/>, for rules that span two layers of one folder.</summary>
    public PipelineLayerSpec? SpecOf(LayerKind kind) => _specs[(int)kind];
}
