using System.Diagnostics.CodeAnalysis;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Resilience.Reload;

/// <summary>
/// Tells <see cref="IOptionsMonitor{TOptions}"/> that the named options changed, but only once the changed section has
/// produced valid options: invalid ones are logged and never reach the monitor, so it keeps the last valid options.
/// </summary>
/// <remarks>
/// The monitor alone cannot do this: it rebuilds the options when configuration changes and throws from the reload
/// callback when they are invalid (into the file watcher's thread, say), after dropping the cached valid ones. Here the
/// options are built and validated first (<see cref="IOptionsFactory{TOptions}"/>), and the monitor is signalled only
/// when that succeeds. A reload that leaves the section's keys and values as they were signals nothing.
/// </remarks>
/// <typeparam name="TOptions">The options' type.</typeparam>
internal sealed class ValidatedReloadSource<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions> : IOptionsChangeTokenSource<TOptions>, IDisposable
    where TOptions : class
{
    private readonly IConfiguration _section;
    private readonly IOptionsFactory<TOptions> _factory;
    private readonly IOptionsMonitorCache<TOptions> _cache;
    private readonly ILogger _logger;
    private readonly IDisposable _subscription;
    private readonly Lock _sync = new();
    private CancellationTokenSource _changed = new();
    private string _seen;

    public ValidatedReloadSource(string name, IConfiguration section, IOptionsFactory<TOptions> factory, IOptionsMonitorCache<TOptions> cache, ILogger logger)
    {
        Name = name;
        _section = section;
        _factory = factory;
        _cache = cache;
        _logger = logger;
        _seen = Fingerprint(section);
        _subscription = ChangeToken.OnChange(section.GetReloadToken, OnConfigurationChanged);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IChangeToken GetChangeToken() => new CancellationChangeToken(Volatile.Read(ref _changed).Token);

    public void Dispose()
    {
        _subscription.Dispose();
        Volatile.Read(ref _changed).Dispose();
    }

    private void OnConfigurationChanged()
    {
        // Configuration providers may reload on several threads; one reload is judged and applied at a time.
        lock (_sync)
        {
            var fingerprint = Fingerprint(_section);
            if (string.Equals(fingerprint, _seen, StringComparison.Ordinal))
            {
                return;
            }

            // Remembered even when rejected, so the same invalid content is reported once, not on every unrelated reload.
            _seen = fingerprint;
            TOptions options;
            try
            {
                options = _factory.Create(Name);
            }
            catch (OptionsValidationException e)
            {
                ReloadLog.Rejected(_logger, null, typeof(TOptions).Name, Name, string.Join(" ", e.Failures));
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A configure action that throws (a binder's parse error, say) is a rejection too: the reload must not crash the watcher.
                ReloadLog.Rejected(_logger, e, typeof(TOptions).Name, Name, e.Message);
                return;
            }

            Signal(options);
        }
    }

    private void Signal(TOptions options)
    {
        // Not disposed: a consumer may still register on its token, which then runs at once (a disposed source could throw).
        var previous = Interlocked.Exchange(ref _changed, new CancellationTokenSource());
        try
        {
            previous.Cancel();
        }
        catch (AggregateException e)
        {
            // A listener threw, or the monitor's own rebuild failed because the section changed again meanwhile:
            // make sure the monitor still holds valid options (TryAdd keeps whatever it already has).
            _cache.TryAdd(Name, options);
            ReloadLog.ListenerFailed(_logger, e, typeof(TOptions).Name, Name);
            return;
        }

        ReloadLog.Reloaded(_logger, typeof(TOptions).Name, Name);
    }

    /// <summary>The section's keys and values, so a reload that changed only other sections is recognised.</summary>
    private static string Fingerprint(IConfiguration section)
    {
        var text = new StringBuilder();
        foreach (var pair in section.AsEnumerable())
        {
            text.Append(pair.Key).Append('\0').Append(pair.Value).Append('\0');
        }

        return text.ToString();
    }
}
