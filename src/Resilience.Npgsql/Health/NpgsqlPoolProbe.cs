using System.Diagnostics.Metrics;
using Npgsql;
using Resilience.Health;

namespace Resilience.Npgsql;

/// <summary>An <see cref="IPoolProbe"/> over an Npgsql pool: figures from Npgsql's own <c>Npgsql</c> meter, ping on a separate tiny pool.</summary>
/// <remarks>
/// <para>Busy, idle and maximum come from <c>db.client.connection.count</c>/<c>db.client.connection.max</c> (Npgsql 10; 8.x–9.x:
/// <c>db.client.connections.usage</c>/<c>db.client.connections.max</c>); waiters and acquire timeouts from
/// <c>db.client.connection.npgsql.pending_requests</c>/<c>db.client.connection.npgsql.timeouts</c> (8.x–9.x:
/// <c>db.client.connections.pending_requests</c>/<c>db.client.connections.timeouts</c>), filtered by the pool-name tag. Waiters
/// and timeouts are counted from the probe's creation on. The p99 acquire wait is known when a <see cref="ResilientDataSource"/>
/// is given: it covers its connection opens that ended in the last 30 s (at most the last 256), failed ones included, and
/// counts each caller still waiting by how long it has waited so far, so a pool whose callers wait shows it before they give up.</para>
/// <para>The ping runs <c>SELECT 1</c> on a connection of its own, outside the pool, so a saturated pool still pings fine and a
/// failed ping means the server itself is unreachable. That connection is kept between pings; when a ping on it fails (the
/// server restarted and closed it), the ping is run again at once on a new connection, so a connection that died while idle
/// never reports a server that is up as down, and a server that is down is reported by the very check that found it so.
/// The probe owns and disposes that connection.</para>
/// </remarks>
public sealed class NpgsqlPoolProbe : IPoolProbe, IDisposable
{
    private const string NpgsqlMeterName = "Npgsql";

    private readonly string _poolName;
    private readonly NpgsqlDataSource _pingDataSource;
    private readonly SemaphoreSlim _pingGate = new(1, 1);

    // The ping's own connection, kept between pings; only touched under _pingGate.
    private NpgsqlConnection? _pingConnection;
    private volatile bool _disposed;
    private readonly AcquireWaitRecorder? _acquireWaits;
    private readonly TimeProvider _timeProvider;
    private readonly MeterListener _listener;
    private readonly Lock _observeLock = new();

    private long _pending;
    private long _timeouts;

    // Written by the observable callbacks, which run synchronously inside RecordObservableInstruments under _observeLock.
    private int _busy;
    private int _idle;
    private int _max;

    /// <summary>Creates a probe of the pool named <paramref name="poolName"/>.</summary>
    /// <param name="poolName">
    /// The pool's name as Npgsql reports it: the <see cref="NpgsqlDataSourceBuilder.Name"/> given when building, or else the data
    /// source's <see cref="NpgsqlDataSource.ConnectionString"/>.
    /// </param>
    /// <param name="pingConnectionString">The connection string of the ping's own connection (opened outside any pool).</param>
    /// <param name="pingTimeout">The ping connection's connect and command timeout, rounded up to whole seconds.</param>
    /// <param name="measuredDataSource">Records acquire waits for the p99; <see langword="null"/> when not used.</param>
    /// <param name="timeProvider">Measures ping durations; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public NpgsqlPoolProbe(
        string poolName,
        string pingConnectionString,
        TimeSpan pingTimeout,
        ResilientDataSource? measuredDataSource = null,
        TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(poolName);
        ArgumentException.ThrowIfNullOrEmpty(pingConnectionString);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pingTimeout, TimeSpan.Zero);
        _poolName = poolName;
        _acquireWaits = measuredDataSource?.AcquireWaits;
        _timeProvider = timeProvider ?? TimeProvider.System;
        var builder = new NpgsqlDataSourceBuilder(pingConnectionString) { Name = poolName + ".ping" };

        // Unpooled: the probe holds its one connection itself, and a connection it drops is closed, not returned for reuse.
        builder.ConnectionStringBuilder.Pooling = false;
        builder.ConnectionStringBuilder.Timeout = Math.Max(1, (int)Math.Ceiling(pingTimeout.TotalSeconds));
        builder.ConnectionStringBuilder.CommandTimeout = builder.ConnectionStringBuilder.Timeout;
        _pingDataSource = builder.Build();

        _listener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name == NpgsqlMeterName && NpgsqlPoolInstruments.Classify(instrument.Name) != PoolInstrument.None)
                {
                    listener.EnableMeasurementEvents(instrument, listener);
                }
            },
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => OnMeasurement(instrument, value, tags));
        _listener.Start();
    }

    /// <inheritdoc />
    public PoolSnapshot GetSnapshot()
    {
        int busy, idle, max;
        lock (_observeLock)
        {
            _busy = _idle = _max = 0;
            _listener.RecordObservableInstruments();
            (busy, idle, max) = (_busy, _idle, _max);
        }

        // Pending requests are an up-down counter of deltas: a listener started while someone waited may see an extra -1.
        var waiters = (int)Math.Clamp(Interlocked.Read(ref _pending), 0, int.MaxValue);
        return new PoolSnapshot(max, busy, idle, waiters, Interlocked.Read(ref _timeouts), _acquireWaits?.GetRecentP99());
    }

    /// <inheritdoc />
    /// <remarks>Pings run one at a time. A ping whose kept connection fails is run once more on a new connection.</remarks>
    public async ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        await _pingGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_pingConnection is { } kept)
            {
                try
                {
                    await SelectOneAsync(kept, cancellationToken).ConfigureAwait(false);
                    return _timeProvider.GetElapsedTime(started);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
                {
                    // The kept connection may have died while idle (a restart closes every backend): it says nothing about the
                    // server now, so it is dropped and the ping asks again on a new one.
                    await DropConnectionAsync().ConfigureAwait(false);
                }
                catch
                {
                    await DropConnectionAsync().ConfigureAwait(false);
                    throw;
                }
            }

            var fresh = _pingDataSource.CreateConnection();
            try
            {
                await fresh.OpenAsync(cancellationToken).ConfigureAwait(false);
                await SelectOneAsync(fresh, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await fresh.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _pingConnection = fresh;
            return _timeProvider.GetElapsedTime(started);
        }
        finally
        {
            if (_disposed)
            {
                // Disposed while this ping ran: nobody will close the connection it kept.
                await DropConnectionAsync().ConfigureAwait(false);
            }

            _pingGate.Release();
        }
    }

    /// <summary>Stops listening to Npgsql's meter and closes the ping connection.</summary>
    public void Dispose()
    {
        _disposed = true;
        _listener.Dispose();

        // A ping in flight keeps the gate and disposes of its own connection; one kept between pings is closed here.
        if (_pingGate.Wait(0))
        {
            _pingConnection?.Dispose();
            _pingConnection = null;
        }

        _pingDataSource.Dispose();
    }

    private static async ValueTask SelectOneAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var command = new NpgsqlCommand("SELECT 1", connection);
        await using (command.ConfigureAwait(false))
        {
            await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask DropConnectionAsync()
    {
        var dropped = _pingConnection;
        _pingConnection = null;
        if (dropped is not null)
        {
            await dropped.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? state = null;
        var ours = false;
        foreach (var tag in tags)
        {
            switch (tag.Key)
            {
                case NpgsqlPoolInstruments.PoolNameTag or NpgsqlPoolInstruments.LegacyPoolNameTag:
                    ours = tag.Value is string name && string.Equals(name, _poolName, StringComparison.Ordinal);
                    break;
                case NpgsqlPoolInstruments.StateTag or NpgsqlPoolInstruments.LegacyStateTag:
                    state = tag.Value as string;
                    break;
            }
        }

        if (!ours)
        {
            return;
        }

        switch (NpgsqlPoolInstruments.Classify(instrument.Name))
        {
            case PoolInstrument.Count when state == "used":
                _busy = (int)value;
                break;
            case PoolInstrument.Count when state == "idle":
                _idle = (int)value;
                break;
            case PoolInstrument.Max:
                _max = (int)value;
                break;
            case PoolInstrument.PendingRequests:
                Interlocked.Add(ref _pending, value);
                break;
            case PoolInstrument.Timeouts:
                Interlocked.Add(ref _timeouts, value);
                break;
        }
    }
}

/// <summary>The pool instruments of Npgsql's meter the probe reads.</summary>
internal enum PoolInstrument
{
    None,
    Count,
    Max,
    PendingRequests,
    Timeouts,
}

/// <summary>Npgsql's pool instrument and tag names, verified against Npgsql 10.0.3 (and the 8.x–9.x names).</summary>
internal static class NpgsqlPoolInstruments
{
    public const string PoolNameTag = "db.client.connection.pool.name";
    public const string LegacyPoolNameTag = "pool.name";
    public const string StateTag = "db.client.connection.state";
    public const string LegacyStateTag = "state";

    public static PoolInstrument Classify(string name) => name switch
    {
        "db.client.connection.count" or "db.client.connections.usage" => PoolInstrument.Count,
        "db.client.connection.max" or "db.client.connections.max" => PoolInstrument.Max,
        "db.client.connection.npgsql.pending_requests" or "db.client.connections.pending_requests" => PoolInstrument.PendingRequests,
        "db.client.connection.npgsql.timeouts" or "db.client.connections.timeouts" => PoolInstrument.Timeouts,
        _ => PoolInstrument.None,
    };
}
