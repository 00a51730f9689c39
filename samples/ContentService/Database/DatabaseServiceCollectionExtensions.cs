namespace ContentService.Database;

/// <summary>The database: Resilience.Npgsql (safe retries, a breaker, server-side query timeouts, pool health) and the schema migrations.</summary>
internal static class DatabaseServiceCollectionExtensions
{
    public static IServiceCollection AddContentDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString("ContentDb");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                "ConnectionStrings:ContentDb is not set. Set the environment variable ConnectionStrings__ContentDb " +
                "(scripts/run-sample.sh does this for a throwaway PostgreSQL).");
        }

        // Configured under "Database" (appsettings.json or Database__* environment variables) and validated at start-up.
        services.AddNpgsqlResilience(connectionString, configuration.GetSection("Database"));
        services.AddSingleton<SchemaMigrator>();
        return services;
    }

    public static async Task MigrateDatabaseAsync(this WebApplication app) =>
        await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
}
