using Microsoft.Extensions.Options;

namespace ContentService.Realtime;

/// <summary>The WebSocket endpoint's limits, bound from <c>Realtime</c> (the original's companion daemon had none).</summary>
internal sealed class RealtimeOptions
{
    public const string Section = "Realtime";

    /// <summary>Open connections the whole instance holds.</summary>
    public int MaxConnections { get; set; } = 200;

    /// <summary>Open connections one client (API key, else address) may hold.</summary>
    public int MaxConnectionsPerClient { get; set; } = 4;

    /// <summary>Requests one connection may have running at once; more are refused (ERR_CAPACITY_EXHAUSTED), never queued.</summary>
    public int MaxInFlightPerConnection { get; set; } = 8;

    /// <summary>Requests all connections together may have running at once.</summary>
    public int MaxInFlight { get; set; } = 24;

    /// <summary>Messages one API key may send per <see cref="Window"/>, over all its connections.</summary>
    public int MessagesPerWindowPerKey { get; set; } = 100;

    /// <summary>Messages one address may send per <see cref="Window"/>, over all its connections.</summary>
    public int MessagesPerWindowPerAddress { get; set; } = 200;

    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The largest message read; a larger one closes the connection (1009).</summary>
    public int MaxMessageBytes { get; set; } = 4096;

    /// <summary>How often the server pings (a WebSocket ping frame) a connection.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long the server waits for the pong before it drops the connection as dead.</summary>
    public TimeSpan PongTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>Every rule of <see cref="RealtimeOptions"/>, each message naming its key.</summary>
internal sealed class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>
{
    public ValidateOptionsResult Validate(string? name, RealtimeOptions o)
    {
        var errors = new List<string>();
        if (o.MaxConnections is < 1 or > 100_000)
        {
            errors.Add("Realtime:MaxConnections: must be between 1 and 100000.");
        }

        if (o.MaxConnectionsPerClient < 1 || o.MaxConnectionsPerClient > o.MaxConnections)
        {
            errors.Add("Realtime:MaxConnectionsPerClient: must be at least 1 and at most Realtime:MaxConnections.");
        }

        if (o.MaxInFlight is < 1 or > 10_000)
        {
            errors.Add("Realtime:MaxInFlight: must be between 1 and 10000.");
        }

        if (o.MaxInFlightPerConnection < 1 || o.MaxInFlightPerConnection > o.MaxInFlight)
        {
            errors.Add("Realtime:MaxInFlightPerConnection: must be at least 1 and at most Realtime:MaxInFlight.");
        }

        if (o.MessagesPerWindowPerKey < 1 || o.MessagesPerWindowPerAddress < 1)
        {
            errors.Add("Realtime:MessagesPerWindowPerKey and Realtime:MessagesPerWindowPerAddress: must be at least 1.");
        }

        if (o.Window < TimeSpan.FromMilliseconds(100) || o.Window > TimeSpan.FromHours(1))
        {
            errors.Add("Realtime:Window: must be between 00:00:00.100 and 01:00:00.");
        }

        if (o.MaxMessageBytes is < 64 or > 1_048_576)
        {
            errors.Add("Realtime:MaxMessageBytes: must be between 64 and 1048576.");
        }

        if (o.PingInterval < TimeSpan.FromMilliseconds(100) || o.PingInterval > TimeSpan.FromMinutes(10))
        {
            errors.Add("Realtime:PingInterval: must be between 00:00:00.100 and 00:10:00.");
        }

        if (o.PongTimeout < TimeSpan.FromMilliseconds(100) || o.PongTimeout > TimeSpan.FromMinutes(10))
        {
            errors.Add("Realtime:PongTimeout: must be between 00:00:00.100 and 00:10:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
