namespace Resilience;

/// <summary>One layer of a pipeline as <see cref="ResiliencePipeline.Describe"/> lists it: its kind and its options.</summary>
/// <remarks>Meant for tests that assert on a pipeline's composition, e.g. one built from configuration.</remarks>
public sealed class PipelineLayerDescription
{
    internal PipelineLayerDescription(string kind, string options)
    {
        Kind = kind;
        Options = options;
    }

    /// <summary>Gets the layer's kind: <c>Fallback</c>, <c>RateLimiter</c>, <c>TotalTimeout</c>, <c>Retry</c>, <c>Hedging</c>, <c>CircuitBreaker</c>, <c>AttemptTimeout</c> or <c>FaultInjection</c>.</summary>
    public string Kind { get; }

    /// <summary>Gets the layer's options as <c>Key=value</c> pairs separated by <c>", "</c>, formatted culture-invariantly (durations as <c>hh:mm:ss</c>).</summary>
    public string Options { get; }

    /// <summary>Returns <c>Kind(Options)</c>, e.g. <c>TotalTimeout(Timeout=00:00:02)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Kind}({Options})";
}
