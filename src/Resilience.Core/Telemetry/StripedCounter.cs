namespace Resilience.Telemetry;

/// <summary>
/// An exact counter for the success path, incremented without an atomic instruction: each of the first
/// <see cref="OwnedThreads"/> threads of the process adds to a cell that only it writes, alone on its cache line; later
/// threads share one cell through <see cref="Interlocked"/>. One locked increment costs about as much as the rest of a
/// retry's success path, and a shared one makes every core fight for the same cache line.
/// </summary>
/// <remarks>
/// <see cref="Read"/> sums the cells: exact once increments have stopped, and never more than the increments in flight
/// behind while they run. A thread keeps its cell for life (the process hands out <see cref="OwnedThreads"/> of them).
/// </remarks>
internal sealed class StripedCounter
{
    /// <summary>How many threads get a cell of their own; a server's thread pool is rarely larger.</summary>
    internal const int OwnedThreads = 64;

    // 8 longs = 64 bytes: one cache line per cell, so two threads' increments never share a line.
    private const int CellLongs = 8;
    private const int NoCell = -1;

    // This thread's cell: its index + 1, 0 before the first increment, NoCell once every cell was handed out.
    // Handed out process-wide, so the index is this thread's alone in every counter.
    [ThreadStatic]
    private static int t_cell;
    private static int s_cellsHandedOut;

    // Cell 0 is the shared one; thread cell i lives at (i + 1) * CellLongs.
    private readonly long[] _cells = new long[(OwnedThreads + 1) * CellLongs];

    public void Increment()
    {
        int cell = t_cell;
        if (cell > 0)
        {
            // Only this thread writes this cell: a plain read and an ordered write are enough (readers see whole values).
            ref long owned = ref _cells[cell * CellLongs];
            Volatile.Write(ref owned, owned + 1);
            return;
        }

        IncrementSlow(cell);
    }

    public long Read()
    {
        long sum = 0;
        for (int at = 0; at < _cells.Length; at += CellLongs)
        {
            sum += Volatile.Read(ref _cells[at]);
        }

        return sum;
    }

    private void IncrementSlow(int cell)
    {
        if (cell == 0)
        {
            int handedOut = Interlocked.Increment(ref s_cellsHandedOut);
            t_cell = handedOut <= OwnedThreads ? handedOut : NoCell;
            if (t_cell > 0)
            {
                Increment();
                return;
            }
        }

        Interlocked.Increment(ref _cells[0]);
    }
}
