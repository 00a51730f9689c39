namespace Resilience.DependencyInjection;

/// <summary>The container's random source for pipelines, registered by <c>UseRandom</c>; a type of its own so no other <see cref="System.Random"/> registration is picked up.</summary>
internal sealed class ResilienceRandom(Random random)
{
    public Random Random { get; } = random;
}
