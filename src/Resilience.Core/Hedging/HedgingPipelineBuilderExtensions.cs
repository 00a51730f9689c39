using Resilience.Hedging;

namespace Resilience;

/// <summary>Adds hedging to a pipeline.</summary>
public static class HedgingPipelineBuilderExtensions
{
    /// <summary>
    /// Hedges each call as <paramref name="options"/> say: when an attempt has no acceptable outcome after the delay (or
    /// fails), another starts; the first acceptable outcome wins, the other attempts are cancelled and their results disposed.
    /// </summary>
    /// <remarks>
    /// Hedging sits inside retry and the total timeout and outside the circuit breaker and the attempt timeout: each
    /// attempt asks the breaker and has its own time limit, and a retry runs a whole hedged round again. Each attempt's
    /// token is linked to the caller's; <see cref="ResilienceContext.HedgedAttempt"/> tells the operation which attempt it runs
    /// (<c>ExecuteHedgedAsync</c> maps it onto a list of endpoints). Hedge only operations safe to run concurrently.
    /// </remarks>
    /// <typeparam name="TBuilder">The builder's type.</typeparam>
    /// <param name="builder">The pipeline builder.</param>
    /// <param name="options">The hedging options; validated here.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid.</exception>
    public static TBuilder AddHedging<TBuilder>(this ResiliencePipelineBuilderBase<TBuilder> builder, HedgingOptions options)
        where TBuilder : ResiliencePipelineBuilderBase<TBuilder>
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        HedgingOptionsValidator.ThrowIfInvalid(options);
        return builder.SetLayer(new HedgingLayer.Spec(options));
    }
}
