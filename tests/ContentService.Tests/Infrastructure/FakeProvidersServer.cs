extern alias FakeProvidersApp;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ContentService.Tests.Infrastructure;

/// <summary>The real FakeProviders app, started in-process on a loopback port (Kestrel), with helpers to inject faults.</summary>
public sealed class FakeProvidersServer : IAsyncDisposable
{
    private readonly WebApplicationFactory<FakeProvidersApp::Program> _factory;

    private FakeProvidersServer(WebApplicationFactory<FakeProvidersApp::Program> factory, Uri baseAddress)
    {
        _factory = factory;
        BaseAddress = baseAddress;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    /// <summary>A plain client for the fault controls.</summary>
    public HttpClient Client { get; }

    public static FakeProvidersServer Start()
    {
        var factory = new WebApplicationFactory<FakeProvidersApp::Program>();
        factory.UseKestrel(options => options.Listen(System.Net.IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new FakeProvidersServer(factory, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Sets one target's faults (a provider name or "cms"), e.g. <c>{"outage":true}</c>.</summary>
    public async Task SetFaultAsync(string target, string faultJson)
    {
        using var content = new StringContent(faultJson, System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.PutAsync(new Uri($"faults/{target}", UriKind.Relative), content);
        response.EnsureSuccessStatusCode();
    }

    public async Task ClearFaultsAsync()
    {
        using var response = await Client.DeleteAsync(new Uri("faults", UriKind.Relative));
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _factory.DisposeAsync();
    }
}
