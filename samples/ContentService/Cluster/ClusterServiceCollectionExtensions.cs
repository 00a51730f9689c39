using ContentService.Providers;
using Resilience.Cluster;
using Resilience.Http;

namespace ContentService.Cluster;

/// <summary>
/// Joins the instances of the service through the content database when <c>Cluster:Enabled</c> is true
/// (<c>INSTANCES=3 bash scripts/run-sample.sh</c> sets it): the per-client API allowance and the LLM providers' breakers
/// and retry budgets become cluster-wide. Off (the default, one instance), nothing is registered and nothing changes.
/// </summary>
internal static class ClusterServiceCollectionExtensions
{
    public const string Section = "Cluster";

    /// <summary>Whether <c>Cluster:Enabled</c> is set.</summary>
    public static bool IsEnabled(IConfiguration configuration) => configuration.GetValue<bool>(Section + ":Enabled");

    public static IServiceCollection AddServiceCluster(this IServiceCollection services, IConfiguration configuration)
    {
        if (!IsEnabled(configuration))
        {
            return services;
        }

        // The coordinator's own options (SyncInterval, LeaseTime, VoteWindow, Quorum, StoreTimeout, InstanceId) bind from the
        // same section; a bad value stops the host at start-up, when the coordinator is built (its message lists every error).
        var section = configuration.GetSection(Section);
        services.AddNpgsqlCluster(configuration.GetConnectionString("ContentDb")!, o => section.Bind(o));
        services.AddSingleton<ClusterKeyLimits>();
        services.AddSingleton<ProviderBreakerSharing>();
        services.AddSingleton<ProviderRetryBudgets>();
        services.AddSingleton<ClusterView>();

        // The HTTP handler names no breaker option ClusterWide: each provider client's breaker is shared as the handler
        // creates it (its pipeline is built right after, through ConfigurePipeline), before it can see a failure.
        var providers = configuration.GetSection(ProvidersOptions.Section).Get<ProvidersOptions>() ?? new ProvidersOptions();
        foreach (var provider in providers.Llm)
        {
            var client = ModelRouter.ClientPrefix + provider.Name;
            services.AddOptions<HttpResilienceOptions>(client).Configure<ProviderBreakerSharing>((o, sharing) =>
            {
                var previous = o.ConfigurePipeline;
                o.ConfigurePipeline = (builder, authority) =>
                {
                    previous?.Invoke(builder, authority);
                    sharing.Share(client + ":" + authority);
                };
            });

            // The retry budget: after the client's settings are bound (a post-configuration), so the shared bucket has their
            // size; a client with its budget off keeps it off.
            services.AddOptions<HttpResilienceOptions>(client).PostConfigure<ProviderRetryBudgets>((o, budgets) =>
            {
                if (o.RetryBudget.Enabled)
                {
                    o.RetryBudget.Budget = budgets.For(client, o.RetryBudget);
                }
            });
        }

        return services;
    }
}
