namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the library's strategies to a service collection; features add themselves through extension methods.</summary>
public sealed class ResilienceBuilder
{
    internal ResilienceBuilder(IServiceCollection services) => Services = services;

    /// <summary>Gets the service collection the strategies are registered in.</summary>
    public IServiceCollection Services { get; }
}
