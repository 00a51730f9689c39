using Microsoft.Extensions.Logging;

namespace Resilience.Testing;

/// <summary>Records every log entry (event ID, level, formatted message, exception), for tests that assert what was logged.</summary>
internal sealed class CapturingLogger : ILogger, ILoggerProvider
{
    private readonly Lock _sync = new();
    private readonly List<(EventId EventId, LogLevel Level, string Message, Exception? Exception)> _entries = [];

    public IReadOnlyList<(EventId EventId, LogLevel Level, string Message, Exception? Exception)> Entries
    {
        get
        {
            lock (_sync)
            {
                return [.. _entries];
            }
        }
    }

    public IReadOnlyList<int> EventIds
    {
        get
        {
            lock (_sync)
            {
                return _entries.ConvertAll(static e => e.EventId.Id);
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
            _entries.Add((eventId, logLevel, formatter(state, exception), exception));
        }
    }

    /// <summary>As a provider, every category logs into this one recorder.</summary>
    public ILogger CreateLogger(string categoryName) => this;

    public void Dispose()
    {
    }
}
