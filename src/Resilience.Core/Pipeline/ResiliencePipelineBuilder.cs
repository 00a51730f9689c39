namespace Resilience;

/// <summary>Builds a <see cref="ResiliencePipeline"/>: strategies for operations of any result type, judged by their exceptions.</summary>
/// <example>
/// <code>
/// var pipeline = new ResiliencePipelineBuilder("orders-db")
///     .AddTotalTimeout(TimeSpan.FromSeconds(10))
///     .AddRetry(RetryPresets.Database)
///     .AddCircuitBreaker(new CircuitBreakerOptions())
///     .AddAttemptTimeout(TimeSpan.FromSeconds(5))
///     .Build();
/// </code>
/// </example>
public sealed class ResiliencePipelineBuilder : ResiliencePipelineBuilderBase<ResiliencePipelineBuilder>
{
    /// <summary>Creates a builder for a pipeline called <paramref name="name"/>.</summary>
    /// <param name="name">The pipeline's name, used in metrics, logs and exception messages.</param>
    public ResiliencePipelineBuilder(string name)
        : base(name)
    {
    }

    /// <summary>Creates the pipeline; every option is validated here.</summary>
    /// <returns>The pipeline; thread-safe and meant to be shared.</returns>
    public ResiliencePipeline Build() => new(BuildEngine<object>(null));
}
