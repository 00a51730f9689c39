using Microsoft.Extensions.Logging;

namespace Resilience.Core.Tests.Health;

internal sealed class CapturingLogger : ILogger
{
    private readonly Lock _sync = new();
    private readonly List<(EventId EventId, LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(EventId EventId, LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_sync)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_sync)
        {
            _entries.Add((eventId, logLevel, formatter(state, exception)));
        }
    }
}
