using ContentService.Database;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

var builder = WebApplication.CreateBuilder(args);

var connectionString = builder.Configuration.GetConnectionString("ContentDb");
if (string.IsNullOrWhiteSpace(connectionString))
{
    throw new InvalidOperationException(
        "ConnectionStrings:ContentDb is not set. Set the environment variable ConnectionStrings__ContentDb " +
        "(scripts/run-sample.sh does this for a throwaway PostgreSQL).");
}

builder.Services.AddSingleton(_ => new NpgsqlDataSourceBuilder(connectionString) { Name = "content" }.Build());
builder.Services.AddSingleton<SchemaMigrator>();
builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);

var app = builder.Build();

await app.Services.GetRequiredService<SchemaMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);

app.MapHealthChecks("/health/live", new() { Predicate = static _ => false });
app.MapHealthChecks("/health/ready", new()
{
    Predicate = static check => check.Tags.Contains("ready"),
    ResultStatusCodes = { [HealthStatus.Degraded] = StatusCodes.Status200OK, [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable },
});

await app.RunAsync();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
