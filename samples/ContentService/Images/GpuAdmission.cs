using Microsoft.Extensions.Options;

namespace ContentService.Images;

/// <summary>
/// The admission check before a generation (the original checked GPU memory before loading its SDXL pipeline): a
/// request whose units do not fit in what is free now is refused at once, with the time when enough should be free;
/// it never waits in a queue and is never sent to a GPU that would run out of memory.
/// </summary>
internal sealed class GpuAdmission(IOptions<ImageOptions> options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly List<Reservation> _running = [];
    private int _inUse;

    /// <summary>The units one generation needs, the image provider's own rule: 4 for the model, 2 per started 512×512 block.</summary>
    public static int UnitsFor(int width, int height) => 4 + (2 * (int)Math.Ceiling(width * (double)height / (512 * 512)));

    public int Capacity => options.Value.GpuUnits;

    /// <summary>Reserves <paramref name="units"/> if they fit now; otherwise null and when enough should be free.</summary>
    public Reservation? TryAdmit(int units, out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            if (_inUse + units <= Capacity)
            {
                _inUse += units;
                var reservation = new Reservation(this, units, time.GetUtcNow());
                _running.Add(reservation);
                retryAfter = TimeSpan.Zero;
                return reservation;
            }

            retryAfter = EstimateFreeIn(units);
            return null;
        }
    }

    public GpuCapacityResponse Snapshot()
    {
        lock (_lock)
        {
            return new GpuCapacityResponse(Capacity, _inUse, Capacity - _inUse, _running.Count);
        }
    }

    // The running generations end in start order, each after about ExpectedDuration: the first moment enough is free.
    private TimeSpan EstimateFreeIn(int units)
    {
        var now = time.GetUtcNow();
        var free = Capacity - _inUse;
        foreach (var r in _running)
        {
            free += r.Units;
            if (free >= units)
            {
                var left = r.StartedAt + options.Value.ExpectedDuration - now;
                return left > TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1);
            }
        }

        return options.Value.ExpectedDuration;
    }

    private void Release(Reservation reservation)
    {
        lock (_lock)
        {
            if (_running.Remove(reservation))
            {
                _inUse -= reservation.Units;
            }
        }
    }

    /// <summary>Units held by one generation; disposing returns them (once).</summary>
    internal sealed class Reservation(GpuAdmission owner, int units, DateTimeOffset startedAt) : IDisposable
    {
        public int Units { get; } = units;

        public DateTimeOffset StartedAt { get; } = startedAt;

        public void Dispose() => owner.Release(this);
    }
}
