using Resilience.Npgsql;

namespace ContentService.Status;

/// <summary>Feeds the status page's provider-cost panel; the default reads <c>task_costs</c>, a service may register its own.</summary>
internal interface IProviderCostSource
{
    /// <summary>Cost per provider over the last 30 days, most expensive first.</summary>
    ValueTask<IReadOnlyList<ProviderCost>> GetCostsAsync(CancellationToken cancellationToken);
}

/// <summary>What one provider cost over the last 30 days.</summary>
internal sealed record ProviderCost(string Provider, long Calls, long Tokens, decimal CostUsd);

/// <summary>Sums <c>task_costs</c> per provider over 30 days, through the resilient data source.</summary>
internal sealed class DatabaseProviderCostSource(ResilientDataSource database) : IProviderCostSource
{
    public ValueTask<IReadOnlyList<ProviderCost>> GetCostsAsync(CancellationToken cancellationToken) =>
        database.ExecuteAsync(static async (command, _, ct) =>
        {
            command.CommandText = """
                SELECT provider, count(*), coalesce(sum(tokens), 0)::bigint, coalesce(sum(cost_usd), 0)
                FROM task_costs
                WHERE created_at > now() - interval '30 days'
                GROUP BY provider
                ORDER BY 4 DESC, 1
                """;
            var costs = new List<ProviderCost>();
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                costs.Add(new ProviderCost(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDecimal(3)));
            }

            return (IReadOnlyList<ProviderCost>)costs;
        }, 0, DbCallOptions.Idempotent, cancellationToken);
}
