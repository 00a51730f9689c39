using ContentService.Auth;
using ContentService.Cluster;
using ContentService.Content;
using ContentService.Database;
using ContentService.Errors;
using ContentService.Events;
using ContentService.FineTuning;
using ContentService.Health;
using ContentService.Hosting;
using ContentService.Images;
using ContentService.Metrics;
using ContentService.Providers;
using ContentService.Realtime;
using ContentService.Security;
using ContentService.Tasks;
using ContentService.Usage;

var builder = WebApplication.CreateBuilder(args);

// Each feature registers itself from its folder; every option is bound from appsettings.json + environment and
// validated at start-up (a missing or bad one stops the host with a message naming its key).
builder.Services.AddServiceHosting(builder.Configuration);
builder.Services.AddServiceErrors();
builder.Services.AddContentDatabase(builder.Configuration);
builder.Services.AddStatusPage(builder.Configuration);
builder.Services.AddSignIn(builder.Configuration);
builder.Services.AddApiSecurity(builder.Configuration);
builder.Services.AddServiceCluster(builder.Configuration);
builder.Services.AddServiceHealth();
builder.Services.AddProviders(builder.Configuration);
builder.Services.AddTasks(builder.Configuration);
builder.Services.AddContent(builder.Configuration);
builder.Services.AddServiceMetrics(builder.Configuration);
builder.Services.AddPrometheusMetrics();
builder.Services.AddTaskEvents(builder.Configuration);
builder.Services.AddCmsUsage(builder.Configuration);
builder.Services.AddImages(builder.Configuration);
builder.Services.AddRealtime(builder.Configuration);
builder.Services.AddFineTuning(builder.Configuration);

var app = builder.Build();
await app.MigrateDatabaseAsync();

app.UseServiceHosting();
app.UseServiceErrors();
app.MapStatusPage();
app.MapSignIn();
app.UseApiSecurity();
app.MapServiceHosting();
app.MapKeyAdmin();
app.MapServiceHealth();
app.MapTasks();
app.MapContent();
app.MapServiceMetrics();
app.MapPrometheusMetrics();
app.MapTaskEvents();
app.MapCmsUsage();
app.MapImages();
app.MapRealtime();
app.MapFineTuning();

await app.RunAsync();

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
