using ContentService.Database;
using ContentService.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;

var builder = WebApplication.CreateBuilder(args);

var connectionString = builder.Configuration.GetConnectionString("ContentDb");
if (string.IsNullOrWhiteSpace(connectionString))
{
    throw new InvalidOperationException(
        "ConnectionStrings:ContentDb is not set. Set the environment variable ConnectionStrings__ContentDb " +
        "(scripts/run-sample.sh does this for a throwaway PostgreSQL).");
}

// The database goes through Resilience.Npgsql: safe retries, a breaker, server-side query timeouts and pool health,
// all configured under "Database" (appsettings.json or Database__* environment variables) and validated at start-up.
builder.Services.AddNpgsqlResilience(connectionString, builder.Configuration.GetSection("Database"));
builder.Services.AddSingleton<SchemaMigrator>();
builder.Services.AddStatusPage(builder.Configuration);
builder.Services.AddHealthChecks()
    .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"])
    .AddCheck<CircuitBreakersHealthCheck>("circuit-breakers", tags: ["ready"]);

var app = builder.Build();

await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);

app.MapHealthChecks("/health/live", new() { Predicate = static _ => false });
app.MapHealthChecks("/health/ready", new()
{
    Predicate = static check => check.Tags.Contains("ready"),
    ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status200OK, [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
    ResponseWriter = HealthResponseWriter.WriteAsync,
});

// What an operator looks at first: breakers with their transitions, pool health over time, retries, fallbacks, costs.
app.MapStatusPage();

await app.RunAsync();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
