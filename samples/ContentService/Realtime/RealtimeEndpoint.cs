using System.Net.WebSockets;
using ContentService.Errors;
using ContentService.Metrics;
using ContentService.Security;
using Microsoft.Extensions.Options;

namespace ContentService.Realtime;

/// <summary><c>GET /ws</c>: the WebSocket endpoint (the original's companion daemon), two-way, with its own limits.</summary>
internal static class RealtimeEndpoint
{
    public const string Path = "/ws";

    public static IServiceCollection AddRealtime(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RealtimeOptions>().Bind(configuration.GetSection(RealtimeOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        services.AddSingleton<RealtimeLimits>();
        return services;
    }

    public static WebApplication MapRealtime(this WebApplication app)
    {
        app.UseWebSockets();
        app.Map(Path, async (HttpContext http, RealtimeLimits limits, ApiKeyStore keys, IOptions<RealtimeOptions> options,
            IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, IHostApplicationLifetime lifetime, ILoggerFactory logs) =>
        {
            if (!http.WebSockets.IsWebSocketRequest)
            {
                throw new ApiException(StatusCodes.Status400BadRequest, ServiceErrorIds.BadRequest, "This endpoint takes WebSocket connections only (GET with Upgrade: websocket).");
            }

            // A key is optional (reads are public) but, when presented, must be valid: it then has its own message allowance.
            string? keyId = null;
            if (ApiKeyIdentityFeature.PresentedKey(http) is { Length: > 0 } key)
            {
                var identity = key.Length <= 256 ? await keys.ValidateAsync(key, http.RequestAborted) : null;
                keyId = identity?.KeyId ?? throw new ApiException(StatusCodes.Status401Unauthorized, ServiceErrorIds.Unauthorized, "The API key is unknown or expired.");
            }

            var o = options.Value;
            var address = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var slot = limits.TryConnect(keyId is null ? "ip:" + address : "key:" + keyId);

            // Accepted even when refused: a browser's WebSocket cannot read an HTTP error, but it reads the close reason.
            using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = o.PingInterval, KeepAliveTimeout = o.PongTimeout });
            if (slot is null)
            {
                ApiErrorMetrics.Record(http, ServiceErrorIds.CapacityExhausted, StatusCodes.Status503ServiceUnavailable);
                await RefuseAsync(socket, $"{ServiceErrorIds.CapacityExhausted}: too many connections ({o.MaxConnectionsPerClient} per client, {o.MaxConnections} in all); retry in 5 s", http.RequestAborted);
                return;
            }

            using (slot)
            {
                using var connection = new RealtimeConnection(socket, http, limits, o, keyId, address, json.Value.SerializerOptions, logs.CreateLogger<RealtimeConnection>());
                await connection.RunAsync(lifetime.ApplicationStopping);
            }
        })
        .DisableRateLimiting() // a connection would hold a request slot for its whole life; it has its own limits
        .ExcludeFromDescription();
        return app;
    }

    // 1013 "try again later" (RFC 6455's registry), then the client's close is awaited briefly.
    private static async Task RefuseAsync(WebSocket socket, string reason, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            await socket.CloseAsync((WebSocketCloseStatus)1013, RealtimeConnection.Truncate(reason), limit.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The client left without answering the close: the refusal was sent, nothing more to do.
        }
    }
}
