namespace Resilience.Chaos.Concurrency;

/// <summary>
/// Runs many callers on their own threads, round after round, with a check between rounds while no caller runs
/// (a <see cref="Barrier"/>'s post-phase action): contention inside a round, exact invariants between rounds.
/// </summary>
internal static class ContendedRounds
{
    /// <summary>Enough threads to contend on two cores, few enough to keep a round short.</summary>
    public static int Callers => Math.Max(8, Environment.ProcessorCount * 4);

    /// <summary>Runs up to <paramref name="rounds"/> rounds, stopping early once <paramref name="budget"/> has elapsed.</summary>
    /// <param name="rounds">The most rounds to run.</param>
    /// <param name="budget">The wall-clock bound of the whole run.</param>
    /// <param name="body">One caller's work in one round: (caller index, round).</param>
    /// <param name="between">Runs after each round while every caller waits: checks the round and prepares the next.</param>
    /// <returns>How many rounds ran.</returns>
    public static int Run(int rounds, TimeSpan budget, Action<int, int> body, Action<int> between)
    {
        var started = TimeProvider.System.GetTimestamp();
        var round = 0;
        var stop = false;
        Exception? failure = null;
        using var barrier = new Barrier(Callers, _ =>
        {
            try
            {
                between(round);
            }
            catch (Exception ex)
            {
                failure ??= ex;
                stop = true;
            }

            round++;
            stop |= round >= rounds || TimeProvider.System.GetElapsedTime(started) > budget;
        });

        var threads = new Thread[Callers];
        for (var t = 0; t < threads.Length; t++)
        {
            var caller = t;
            threads[t] = new Thread(() =>
            {
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        body(caller, Volatile.Read(ref round));
                    }
                    catch (Exception ex)
                    {
                        Interlocked.CompareExchange(ref failure, ex, null);
                    }

                    barrier.SignalAndWait();
                }
            })
            { IsBackground = true, Name = "chaos-caller-" + caller };
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"Round {round - 1} broke an invariant: {failure.Message}", failure);
        }

        return round;
    }
}
