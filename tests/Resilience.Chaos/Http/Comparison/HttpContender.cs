using Microsoft.Extensions.DependencyInjection;

namespace Resilience.Http.Testing;

/// <summary>A resilience stack to compare: how it is added to a named <see cref="HttpClient"/> and how its circuit is forced open.</summary>
/// <param name="Name">The name in the comparison table.</param>
/// <param name="AddResilience">Adds the stack to the client's builder (its defaults, unless the comparison is about an option).</param>
/// <param name="ForceOpenAsync">Opens the client's circuit for the authority, with the stack's own manual control.</param>
/// <remarks>Xunit-free, so a chaos suite can run the same contenders against other faults.</remarks>
public sealed record HttpContender(
    string Name,
    Action<IHttpClientBuilder> AddResilience,
    Func<IServiceProvider, string, Uri, ValueTask> ForceOpenAsync)
{
    /// <summary>Builds a fresh container (fresh breakers, budgets and caches) with a client of this stack for <paramref name="server"/>.</summary>
    public HttpContenderRun Start(FaultServer server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var time = new VirtualTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        var clientName = "contender";
        AddResilience(services.AddHttpClient(clientName, c => c.BaseAddress = server.BaseAddress));
        var provider = services.BuildServiceProvider();
        return new HttpContenderRun(this, provider, provider.GetRequiredService<IHttpClientFactory>().CreateClient(clientName), time, clientName);
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>One contender's client over a fault server, on its own virtual clock.</summary>
public sealed class HttpContenderRun(HttpContender contender, ServiceProvider services, HttpClient client, VirtualTimeProvider time, string clientName) : IAsyncDisposable
{
    public HttpContender Contender { get; } = contender;

    public IServiceProvider Services => services;

    public HttpClient Client { get; } = client;

    public VirtualTimeProvider Time { get; } = time;

    public string ClientName { get; } = clientName;

    /// <summary>Sends <paramref name="request"/>, driving the virtual clock through the stack's sleeps, and records what the caller got.</summary>
    public async Task<HttpCallResult> SendAsync(HttpRequestMessage request)
    {
        var started = Time.GetUtcNow();
        try
        {
            using var response = await Time.DriveAsync(Client.SendAsync(request)).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
            return new HttpCallResult((int)response.StatusCode, body, HttpResilienceResponse.GetOutcome(response), null, Time.GetUtcNow() - started);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var outcome = e is HttpResilienceException resilience ? resilience.Outcome : HttpResilienceOutcome.None;
            return new HttpCallResult(null, null, outcome, e.GetType().Name, Time.GetUtcNow() - started);
        }
    }

    public ValueTask ForceOpenAsync(Uri authority) => Contender.ForceOpenAsync(services, ClientName, authority);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await services.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>What one call gave its caller: a response (status, body, our marker) or an exception, and how long it took on the virtual clock.</summary>
public sealed record HttpCallResult(int? Status, string? Body, HttpResilienceOutcome Outcome, string? Exception, TimeSpan VirtualElapsed)
{
    /// <summary>A short description for the table, e.g. <c>503 retries-exhausted</c> or <c>TimeoutRejectedException</c>.</summary>
    public override string ToString()
    {
        var marker = HttpResilienceOutcomeNames.ToName(Outcome);
        var what = Exception ?? Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?";
        return marker is null ? what : what + " " + marker;
    }
}
