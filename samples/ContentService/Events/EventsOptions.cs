using Microsoft.Extensions.Options;

namespace ContentService.Events;

/// <summary>Live-progress stream limits, bound from <c>Events</c> (the seeds' WebSocket audit found both limits and the idle timeout missing).</summary>
internal sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Open streams one client (API key, else address) may hold.</summary>
    public int MaxConnectionsPerClient { get; set; } = 4;

    /// <summary>Open streams the whole instance holds.</summary>
    public int MaxConnections { get; set; } = 200;

    /// <summary>A stream with no change for this long is closed (the client reconnects if it still cares).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the stream reads the task, to see changes made by other instances' executors.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);
}

internal sealed class EventsOptionsValidator : IValidateOptions<EventsOptions>
{
    public ValidateOptionsResult Validate(string? name, EventsOptions o)
    {
        var errors = new List<string>();
        if (o.MaxConnectionsPerClient < 1 || o.MaxConnectionsPerClient > o.MaxConnections)
        {
            errors.Add("Events:MaxConnectionsPerClient: must be at least 1 and at most Events:MaxConnections.");
        }

        if (o.MaxConnections is < 1 or > 100_000)
        {
            errors.Add("Events:MaxConnections: must be between 1 and 100000.");
        }

        if (o.IdleTimeout < TimeSpan.FromSeconds(1) || o.IdleTimeout > TimeSpan.FromHours(1))
        {
            errors.Add("Events:IdleTimeout: must be between 00:00:01 and 01:00:00.");
        }

        if (o.PollInterval < TimeSpan.FromMilliseconds(50) || o.PollInterval > TimeSpan.FromMinutes(1))
        {
            errors.Add("Events:PollInterval: must be between 00:00:00.050 and 00:01:00.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
