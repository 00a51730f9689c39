using Microsoft.Extensions.Time.Testing;

namespace Resilience.Core.Tests.Retry;

/// <summary>Drives fake time forward until a pending task completes, without sleeping.</summary>
internal static class TimeDriver
{
    public static async Task<T> RunAsync<T>(FakeTimeProvider time, ValueTask<T> pending, TimeSpan step)
    {
        var task = pending.AsTask();
        for (int i = 0; i < 100_000 && !task.IsCompleted; i++)
        {
            time.Advance(step);
            await Task.Yield();
        }

        Assert.True(task.IsCompleted, "The operation did not complete while fake time advanced.");
        return await task;
    }
}
