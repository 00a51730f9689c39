using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilience.Telemetry;

namespace Resilience.CircuitBreaking;

/// <summary>Named circuit breakers, each created once from its own options ("per-service configuration").</summary>
/// <remarks>
/// Thread-safe. Breakers of a registry report their state on the <c>resilience.circuit_breaker.state</c> gauge until the
/// registry is disposed. For dynamic names (e.g. one breaker per HTTP authority) bound the set with <see cref="Remove"/>.
/// </remarks>
public sealed class CircuitBreakerRegistry : IDisposable
{
    private readonly ConcurrentDictionary<string, CircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly Func<string, CircuitBreakerOptions>? _optionsProvider;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger? _logger;
    private IDisposable? _optionsSubscription;
    private readonly IMeterFactory? _meterFactory;
    private readonly CircuitBreakerTelemetry _telemetry;

    /// <summary>Initializes a new instance of the <see cref="CircuitBreakerRegistry"/> class.</summary>
    /// <param name="optionsProvider">Gives the options of a name for <see cref="GetOrAdd(string)"/>; defaults when <see langword="null"/>.</param>
    /// <param name="timeProvider">The clock of every breaker; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="loggerFactory">Creates the breakers' logger (category <c>Resilience.CircuitBreaker</c>); no logging when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter the breakers' instruments and the state gauge report on (DI's <see cref="IMeterFactory"/>); the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    public CircuitBreakerRegistry(Func<string, CircuitBreakerOptions>? optionsProvider = null, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        _optionsProvider = optionsProvider;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _logger = loggerFactory?.CreateLogger("Resilience.CircuitBreaker");
        _meterFactory = meterFactory;
        _telemetry = ResilienceMeter.Instruments<CircuitBreakerTelemetry>(meterFactory);
        _telemetry.Register(this);
    }

    /// <summary>Gets the number of breakers.</summary>
    public int Count => _breakers.Count;

    /// <summary>Returns the breaker named <paramref name="name"/>, creating it from the registry's options provider.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The breaker.</returns>
    public CircuitBreaker GetOrAdd(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _breakers.TryGetValue(name, out var existing)
            ? existing
            : _breakers.GetOrAdd(name, static (n, self) => self.Create(n, self._optionsProvider?.Invoke(n) ?? new CircuitBreakerOptions()), this);
    }

    /// <summary>Returns the breaker named <paramref name="name"/>, creating it with <paramref name="optionsFactory"/> when missing.</summary>
    /// <param name="name">The name.</param>
    /// <param name="optionsFactory">Creates the options of a new breaker; called at most once per name unless two callers race.</param>
    /// <returns>The breaker.</returns>
    public CircuitBreaker GetOrAdd(string name, Func<string, CircuitBreakerOptions> optionsFactory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(optionsFactory);
        return _breakers.TryGetValue(name, out var existing)
            ? existing
            : _breakers.GetOrAdd(name, static (n, state) => state.Self.Create(n, state.Factory(n)), (Self: this, Factory: optionsFactory));
    }

    /// <summary>Returns the breaker named <paramref name="name"/>, creating it with <paramref name="options"/> when missing.</summary>
    /// <param name="name">The name.</param>
    /// <param name="options">The options of the breaker; an existing breaker must have been created with the same settings.</param>
    /// <returns>The breaker.</returns>
    /// <exception cref="InvalidOperationException">
    /// A breaker of that name exists with different settings (the message names them): two callers would otherwise
    /// silently share a breaker configured for only one of them. Use <see cref="TryGet"/> to get an existing breaker
    /// whatever its settings. Delegates compare by the method they call, so a callback bound to another instance of the
    /// same class is the same setting.
    /// </exception>
    public CircuitBreaker GetOrAdd(string name, CircuitBreakerOptions options) => GetOrAdd(name, options, timeProvider: null);

    /// <summary>As <see cref="GetOrAdd(string, CircuitBreakerOptions)"/>, a new breaker running on <paramref name="timeProvider"/> (the registry's clock when <see langword="null"/>).</summary>
    /// <remarks>For an adapter with a clock of its own, whose breaker must still show in the registry's report.</remarks>
    internal CircuitBreaker GetOrAdd(string name, CircuitBreakerOptions options, TimeProvider? timeProvider)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(options);
        var breaker = _breakers.TryGetValue(name, out var existing)
            ? existing
            : _breakers.GetOrAdd(name, static (n, state) => state.Self.Create(n, state.Options, state.Clock), (Self: this, Options: options, Clock: timeProvider));
        var differences = breaker.Settings.DifferencesFrom(options);
        if (differences.Count > 0)
        {
            throw new InvalidOperationException(
                $"The circuit breaker '{name}' already exists with other settings ({string.Join(", ", differences)}); " +
                "give the breaker another name, pass the same options, or use TryGet to share the existing one.");
        }

        return breaker;
    }

    /// <summary>Gets the breaker named <paramref name="name"/> when it exists.</summary>
    /// <param name="name">The name.</param>
    /// <param name="breaker">The breaker, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when found.</returns>
    public bool TryGet(string name, [NotNullWhen(true)] out CircuitBreaker? breaker)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _breakers.TryGetValue(name, out breaker);
    }

    /// <summary>Removes the breaker named <paramref name="name"/>; callers holding it may keep using it.</summary>
    /// <param name="name">The name.</param>
    /// <returns><see langword="true"/> when a breaker was removed.</returns>
    public bool Remove(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _breakers.TryRemove(name, out _);
    }

    /// <summary>Returns the breakers, ordered by name.</summary>
    /// <returns>A copy of the current set.</returns>
    public IReadOnlyList<CircuitBreaker> GetBreakers()
    {
        var list = new List<CircuitBreaker>(_breakers.Count);
        foreach (var pair in _breakers)
        {
            list.Add(pair.Value);
        }

        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }

    /// <summary>Returns the status of every breaker, ordered by name, for health endpoints.</summary>
    /// <returns>The statuses.</returns>
    public IReadOnlyList<CircuitBreakerStatus> GetStatusReport()
    {
        var breakers = GetBreakers();
        var report = new CircuitBreakerStatus[breakers.Count];
        for (var i = 0; i < report.Length; i++)
        {
            var s = breakers[i].GetSnapshot();
            report[i] = new CircuitBreakerStatus(breakers[i].Name, s.State, s.Failures, s.OpenedAt, s.NextProbeAt, s.Rejections, s.Transitions);
        }

        return report;
    }

    /// <summary>Stops reporting this registry's breakers on the state gauge.</summary>
    public void Dispose()
    {
        _optionsSubscription?.Dispose();
        _telemetry.Unregister(this);
    }

    /// <summary>
    /// Applies options that change for a name (a configuration reload delivers only valid ones) to its live breaker,
    /// keeping its state (see <see cref="CircuitBreaker.UpdateOptions"/>), until the registry is disposed.
    /// </summary>
    internal void FollowOptions(IOptionsMonitor<CircuitBreakerOptions> monitor) =>
        _optionsSubscription = monitor.OnChange((options, name) =>
        {
            if (name is not null && _breakers.TryGetValue(name, out var breaker))
            {
                breaker.UpdateOptions(options);
            }
        });

    /// <summary>Gets or sets the coordinator that breakers marked <see cref="CircuitBreakerOptions.ClusterWide"/> are shared with (set by DI).</summary>
    internal Resilience.Cluster.ClusterCoordinator? Cluster { get; set; }

    private CircuitBreaker Create(string name, CircuitBreakerOptions options, TimeProvider? timeProvider = null)
    {
        if (options.ClusterWide && Cluster is null)
        {
            throw new InvalidOperationException(
                $"The circuit breaker '{name}' is ClusterWide but no cluster is registered: add one (e.g. services.AddNpgsqlCluster(...)) or set ClusterWide to false.");
        }

        var breaker = new CircuitBreaker(name, options, timeProvider ?? _timeProvider, _logger, _meterFactory);
        if (options.ClusterWide)
        {
            Cluster!.Share(breaker);
        }

        return breaker;
    }
}
