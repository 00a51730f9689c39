// Local stand-ins for the LLM and CMS providers the content service calls, with fault injection
// (error rate, latency, outage, 429 with Retry-After, hang) so breakers and fallbacks can be watched working.
var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();

app.MapGet("/health", () => Results.Ok(new { status = "ok" }));

await app.RunAsync();
