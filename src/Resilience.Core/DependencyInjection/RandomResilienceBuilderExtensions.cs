using Microsoft.Extensions.DependencyInjection.Extensions;
using Resilience.DependencyInjection;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Sets the random source of the pipelines the container builds.</summary>
public static class RandomResilienceBuilderExtensions
{
    /// <summary>
    /// Makes every pipeline registered with <c>AddPipeline</c> draw its randomness (retry jitter, fault injection) from
    /// <paramref name="random"/>, e.g. <c>new Random(42)</c> in a test, so the schedule is the same on every run.
    /// </summary>
    /// <param name="builder">The resilience builder.</param>
    /// <param name="random">The source; used under a lock, so a seeded <see cref="Random"/> is safe under concurrent calls.</param>
    /// <returns>The builder.</returns>
    public static ResilienceBuilder UseRandom(this ResilienceBuilder builder, Random random)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(random);
        builder.Services.RemoveAll<ResilienceRandom>();
        builder.Services.AddSingleton(new ResilienceRandom(random));
        return builder;
    }
}
