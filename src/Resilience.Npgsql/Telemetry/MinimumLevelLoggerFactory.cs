using Microsoft.Extensions.Logging;

namespace Resilience.Npgsql;

/// <summary>Hands the driver the application's loggers, but only from <paramref name="minimum"/> up.</summary>
/// <remarks>
/// Npgsql logs every command at Debug and connection events at Information: 4,000 inserts produced 8,070 events through an
/// application logging at Information. The driver gets the application's sinks without its chatter.
/// </remarks>
internal sealed class MinimumLevelLoggerFactory(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new MinimumLevelLogger(inner.CreateLogger(categoryName), minimum);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The application owns the inner factory and disposes it.
    public void Dispose()
    {
    }

    private sealed class MinimumLevelLogger(ILogger inner, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
