namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the resilience library in a service collection.</summary>
public static class ResilienceServiceCollectionExtensions
{
    /// <summary>Starts registering resilience strategies (circuit breakers, fallbacks, pipelines, ...).</summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for the strategies; calling this more than once is harmless.</returns>
    public static ResilienceBuilder AddResilience(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions();
        return new ResilienceBuilder(services);
    }
}
