using Microsoft.Extensions.Options;

namespace ContentService.Providers;

/// <summary>The model router's LLM clients and the CMS client, each an HttpClient with Resilience.Http.</summary>
internal static partial class ProvidersServiceCollectionExtensions
{
    public static IServiceCollection AddProviders(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(ProvidersOptions.Section);
        services.AddOptions<ProvidersOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProvidersOptions>, ProvidersOptionsValidator>();

        // One named client per provider, so each has its own breaker and retry budget; all share the llm settings.
        var providers = section.Get<ProvidersOptions>() ?? new ProvidersOptions();
        foreach (var provider in providers.Llm)
        {
            var name = provider.Name;
            services.AddHttpClient(ModelRouter.ClientPrefix + name, (sp, client) =>
                    client.BaseAddress = LlmAddress(sp.GetRequiredService<IOptions<ProvidersOptions>>().Value, name))
                .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:llm"));
        }

        services.AddHttpClient(CmsClient.ClientName, static (sp, client) =>
                client.BaseAddress = sp.GetRequiredService<IOptions<ProvidersOptions>>().Value.BaseUrl)
            .AddResilienceHttpHandler(configuration.GetSection("Resilience:Http:cms"));
        services.AddSingleton<ModelRouter>();
        services.AddSingleton<CmsClient>();
        return services;
    }

    /// <summary>The base address of LLM provider <paramref name="name"/>'s client.</summary>
    public static Uri LlmAddress(ProvidersOptions options, string name) => new(options.BaseUrl!, $"llm/{name}/");
}
