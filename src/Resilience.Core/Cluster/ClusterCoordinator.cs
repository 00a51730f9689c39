using System.Diagnostics.Metrics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilience.CircuitBreaking;
using Resilience.Retry;
using Resilience.Telemetry;

namespace Resilience.Cluster;

/// <summary>Makes breakers, rate limits and retry budgets of this instance cluster-wide, through a <see cref="ClusterStore"/> shared by every instance.</summary>
/// <remarks>
/// <para>Calls never wait on the cluster: they read local state only. A background loop (every <see cref="ClusterOptions.SyncInterval"/>,
/// and at once on a remote transition or a local opening) sends a heartbeat, publishes this instance's votes and probe
/// results, applies the cluster's decisions to the local breakers and leases quota. When the store does not answer, every
/// shared breaker and limiter runs on local state at once, and the instance re-joins when the store answers again.</para>
/// <para>A shared breaker opens everywhere when a quorum of live instances (<see cref="ClusterOptions.Quorum"/>, a majority by
/// default) saw it open on their own counts within <see cref="ClusterOptions.VoteWindow"/>; in half-open, one instance probes
/// for the cluster and its result closes or re-opens the breaker on all.</para>
/// </remarks>
public sealed partial class ClusterCoordinator : IAsyncDisposable
{
    private readonly ClusterStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ClusterTelemetry _telemetry;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _membersLock = new();
    private ClusterBreakerLink[] _links = [];
    private ClusterRateLimiter[] _limiters = [];
    private ClusterRetryBudget[] _budgets = [];
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;
    private volatile bool _connected;
    private volatile int _live = 1;
    private bool _started;
    private int _disposed;
    private long _reportedQueries;
    private long _reportedNotifications;

    /// <summary>Initializes a new instance of the <see cref="ClusterCoordinator"/> class; the loop starts with <see cref="Start"/>.</summary>
    /// <param name="store">The store every instance shares (e.g. <c>PostgresClusterStore</c>); disposed with the coordinator.</param>
    /// <param name="options">The options; validated and copied.</param>
    /// <param name="timeProvider">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter of the coordination metrics; the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="Microsoft.Extensions.Options.OptionsValidationException">The options are invalid; the message lists every error.</exception>
    public ClusterCoordinator(ClusterStore store, ClusterOptions? options = null, TimeProvider? timeProvider = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        options ??= new ClusterOptions();
        ClusterOptionsValidator.ThrowIfInvalid(options);
        _store = store;
        Options = new ClusterOptions
        {
            InstanceId = options.InstanceId ?? $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}",
            SyncInterval = options.SyncInterval,
            LeaseTime = options.LeaseTime,
            VoteWindow = options.VoteWindow,
            Quorum = options.Quorum,
            StoreTimeout = options.StoreTimeout,
        };
        InstanceId = Options.InstanceId!;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _telemetry = ResilienceMeter.Instruments<ClusterTelemetry>(meterFactory);
    }

    /// <summary>Gets this instance's name in the cluster.</summary>
    public string InstanceId { get; }

    /// <summary>Gets whether the last exchange with the store succeeded (when not, every shared breaker and limiter runs on local state).</summary>
    public bool IsConnected => _connected;

    /// <summary>Gets how many instances were alive at the last exchange (this one included; 1 before the first).</summary>
    public int LiveInstances => _live;

    /// <summary>Gets the round trips to the store so far (every statement of the loop), for the coordination's cost.</summary>
    public long StoreQueries => _store.Queries;

    /// <summary>Gets the transition notifications received from other instances so far.</summary>
    public long Notifications => _store.Notifications;

    internal ClusterOptions Options { get; }

    /// <summary>Makes <paramref name="breaker"/> cluster-wide (breakers of a registry marked <see cref="CircuitBreakerOptions.ClusterWide"/> are shared with the registry's coordinator without this call).</summary>
    /// <param name="breaker">The breaker; its name is its identity in the cluster, so every instance must give it the same one.</param>
    /// <exception cref="InvalidOperationException">The breaker is shared already.</exception>
    public void Share(CircuitBreaker breaker)
    {
        ArgumentNullException.ThrowIfNull(breaker);
        var link = new ClusterBreakerLink(this, breaker);
        lock (_membersLock)
        {
            if (breaker.Cluster is not null)
            {
                throw new InvalidOperationException($"The circuit breaker '{breaker.Name}' is cluster-wide already.");
            }

            breaker.Cluster = link;
            _links = [.. _links, link];
        }

        Wake();
    }

    /// <summary>Makes <paramref name="budget"/> cluster-wide: every instance that shares a budget under <paramref name="name"/> draws on one bucket.</summary>
    /// <param name="budget">The budget (the one the pipelines' retries to the dependency already use).</param>
    /// <param name="name">The budget's identity in the cluster, the same on every instance.</param>
    /// <remarks>Successes deposit into the cluster's bucket and each instance leases tokens from it in slices, so a retry never
    /// waits on the store; unused tokens go back on <see cref="DisposeAsync"/> (a crashed instance's slice is lost, and the
    /// bucket refills from successes). The bucket's size and deposit are the budget's options, which every instance should
    /// share; the <see cref="RetryBudgetOptions.MinRetriesPerSecond"/> floor stays per instance. While the store is
    /// unreachable the budget runs on its own bucket, as an unshared one does.</remarks>
    /// <exception cref="InvalidOperationException">The budget is shared already.</exception>
    public void ShareRetryBudget(RetryBudget budget, string name)
    {
        ArgumentNullException.ThrowIfNull(budget);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var shared = new ClusterRetryBudget(this, budget, name);
        lock (_membersLock)
        {
            if (budget.Cluster is not null)
            {
                throw new InvalidOperationException($"The retry budget '{budget.Cluster.Name}' is cluster-wide already.");
            }

            budget.Cluster = shared;
            _budgets = [.. _budgets, shared];
        }

        Wake();
    }

    /// <summary>Creates a rate limiter that admits <paramref name="permitLimit"/> calls per <paramref name="window"/> across every instance that creates it under <paramref name="name"/>.</summary>
    /// <param name="name">The limit's identity in the cluster.</param>
    /// <param name="permitLimit">The calls the whole cluster may make per window.</param>
    /// <param name="window">The fixed window, aligned on the store's clock.</param>
    /// <returns>A limiter for the pipeline's rate limiter slot; it answers from permits leased ahead, never waiting on the store.</returns>
    /// <remarks>Each instance leases slices of the window's permits; unused slices go back on <see cref="DisposeAsync"/> and lapse at the
    /// window's end when an instance crashes. While the store is unreachable, each instance admits its share of the limit
    /// (the limit divided by the instances last seen alive) per window on its own.</remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="permitLimit"/> is not positive, or <paramref name="window"/> is under 100 ms.</exception>
    public RateLimiter CreateRateLimiter(string name, int permitLimit, TimeSpan window)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(permitLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromMilliseconds(100));
        var limiter = new ClusterRateLimiter(this, name, permitLimit, window, _time);
        lock (_membersLock)
        {
            _limiters = [.. _limiters, limiter];
        }

        Wake();
        return limiter;
    }

    /// <summary>Starts the background loop (once; later calls do nothing).</summary>
    public void Start()
    {
        lock (_membersLock)
        {
            if (_started)
            {
                return;
            }

            _started = true;
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Stops the loop, returns unused quota, withdraws this instance (its votes go with it) and disposes the store.</summary>
    /// <returns>A task that completes when done.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }

        if (_connected)
        {
            using var timeout = new CancellationTokenSource(Options.StoreTimeout, _time);
            try
            {
                foreach (var limiter in _limiters)
                {
                    await limiter.ReturnUnusedAsync(_store, timeout.Token).ConfigureAwait(false);
                }

                foreach (var budget in _budgets)
                {
                    await budget.ReturnUnusedAsync(_store, timeout.Token).ConfigureAwait(false);
                }

                await _store.LeaveAsync(InstanceId, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Leaving is a courtesy: the heartbeat and the leases lapse on their own within the lease time.
                ClusterLog.StoreLost(_logger, e, InstanceId);
            }
        }

        await _store.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <summary>Starts a round now (a local opening, a probe result, a remote notification); never waits.</summary>
    internal void Wake() => Volatile.Read(ref _wake).TrySetResult();

    /// <summary>Gets whether something asked for a round since the last one began.</summary>
    internal bool WakeRequested => Volatile.Read(ref _wake).Task.IsCompleted;

    private async Task LoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            await RunRoundAsync(token).ConfigureAwait(false);
            var wake = Volatile.Read(ref _wake);
            try
            {
                // Wakes (local openings, spent permits, notifications) bring a round forward, at most five per interval:
                // the coordination's traffic stays bounded whatever the call rate.
                await Task.Delay(Options.SyncInterval / 5, _time, token).ConfigureAwait(false);
                await Task.WhenAny(wake.Task, Task.Delay(Options.SyncInterval - (Options.SyncInterval / 5), _time, token)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One exchange with the store; a failure switches every shared member to local state, and the next round retries.</summary>
    internal async Task RunRoundAsync(CancellationToken cancellationToken)
    {
        // A wake from here on asks for the next round: what this one reads may already be stale for it.
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.StoreTimeout);
        try
        {
            if (!_connected)
            {
                await _store.StartAsync(Wake, timeout.Token).ConfigureAwait(false);
            }

            var live = await _store.HeartbeatAsync(InstanceId, Options.LeaseTime, timeout.Token).ConfigureAwait(false);
            _live = live;
            if (!_connected)
            {
                _connected = true;
                ClusterLog.StoreBack(_logger, InstanceId, live);
            }

            await SyncBreakersAsync(timeout.Token).ConfigureAwait(false);
            foreach (var limiter in _limiters)
            {
                await limiter.SyncAsync(_store, live, timeout.Token).ConfigureAwait(false);
            }

            foreach (var budget in _budgets)
            {
                await budget.SyncAsync(_store, live, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            if (_connected)
            {
                _connected = false;
                ClusterLog.StoreLost(_logger, e, InstanceId);
            }

            foreach (var limiter in _limiters)
            {
                limiter.RunLocally(_live);
            }

            foreach (var budget in _budgets)
            {
                budget.RunLocally();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }

        ReportCosts();
    }

    private void ReportCosts()
    {
        long queries = _store.Queries, notifications = _store.Notifications;
        _telemetry.Record(InstanceId, queries - _reportedQueries, notifications - _reportedNotifications);
        _reportedQueries = queries;
        _reportedNotifications = notifications;
    }
}
