using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace ContentService.Tests.Infrastructure;

/// <summary>The content service, started for real against a real database and the real fake providers.</summary>
public sealed class ContentServiceFactory : WebApplicationFactory<Program>
{
    public const string ApiKey = "test-key-0123456789abcdef";
    private readonly Dictionary<string, string?> _settings;

    public ContentServiceFactory(string connectionString, Uri? providers = null, IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["ConnectionStrings:ContentDb"] = connectionString,
            ["Security:ApiKeys:tests"] = ApiKey,
            ["Providers:BaseUrl"] = (providers ?? new Uri("http://127.0.0.1:9/")).ToString(),
        };
        if (settings is not null)
        {
            foreach (var (key, value) in settings)
            {
                _settings[key] = value;
            }
        }
    }

    /// <summary>Extra service registrations (e.g. a FakeTimeProvider), applied after the service's own.</summary>
    public Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? ConfigureTestServices { get; init; }

    /// <summary>A client that sends the test API key.</summary>
    public HttpClient CreateWriter()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (ConfigureTestServices is { } configure)
        {
            builder.ConfigureServices(configure);
        }
    }
}
