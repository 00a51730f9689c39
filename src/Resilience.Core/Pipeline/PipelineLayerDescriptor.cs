namespace Resilience;

/// <summary>One layer of a pipeline as <see cref="ResiliencePipeline.Describe"/> lists it: its kind and its options.</summary>
/// <remarks>Meant for tests that assert on a pipeline's composition, e.g. one built from configuration.</remarks>
public sealed class PipelineLayerDescriptor
{
    internal PipelineLayerDescriptor(string kind, object options, string summary)
    {
        Kind = kind;
        Options = options;
        Summary = summary;
    }

    /// <summary>Gets the layer's kind (e.g. <c>Retry</c>, <c>CircuitBreaker</c>), or a custom layer's <see cref="ResilienceLayer.Name"/>.</summary>
    public string Kind { get; }

    /// <summary>Gets the options the layer runs with, typed: e.g. <c>Retry.RetryOptions</c>, <c>CircuitBreaking.CircuitBreakerOptions</c>, <c>Timeouts.TimeoutOptions</c>, the <c>RateLimiter</c>, or the custom <see cref="ResilienceLayer"/>.</summary>
    /// <example><c>var retry = Assert.IsType&lt;RetryOptions&gt;(pipeline.Describe()[0].Options);</c></example>
    public object Options { get; }

    /// <summary>Gets the options as <c>Key=value</c> pairs separated by <c>", "</c>, formatted culture-invariantly (durations as <c>hh:mm:ss</c>).</summary>
    public string Summary { get; }

    /// <summary>Returns <c>Kind(Summary)</c>, e.g. <c>TotalTimeout(Timeout=00:00:02)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Kind}({Summary})";
}
