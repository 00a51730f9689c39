using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace ContentService.FineTuning;

/// <summary>How a trainer run ended: its exit code, the model it named, and the last lines of its error output (for the log only).</summary>
internal readonly record struct TrainerResult(int ExitCode, string? Model, string ErrorTail);

/// <summary>
/// Runs the trainer as the leader of its own process group and makes sure nothing of it outlives the call: on
/// cancellation (the owner's cancel, the deadline, shutdown) the whole tree is killed at once, and on every path
/// the group is killed afterwards too, which also catches a child the trainer left behind when it exited. The
/// process object (and with it the pipes' handles) is disposed on every path.
/// </summary>
internal static class TrainerProcess
{
    private const int SigKill = 9;
    private const int ErrorTailLines = 5;

    public static async Task<TrainerResult> RunAsync(
        string trainer, string trainingFile, int epochs, TimeSpan epochDuration,
        Action<int> started, Func<int, CancellationToken, ValueTask> progress, CancellationToken ct)
    {
        // setsid makes the trainer a process group leader (pgid = its pid), so the group names the whole job.
        var start = new ProcessStartInfo("setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(trainingFile)!,
        };
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(trainer);
        start.ArgumentList.Add(trainingFile);
        start.ArgumentList.Add(epochs.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(epochDuration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture));

        using var process = new Process { StartInfo = start };
        process.Start();
        var pid = process.Id;
        try
        {
            started(pid);

            // Killing the tree closes its end of the pipes, so the reads below end even if they ignore the token.
            await using var onCancel = ct.Register(static p => KillTree((Process)p!), process);
            var errors = ReadTailAsync(process.StandardError);
            string? model = null;
            while (await process.StandardOutput.ReadLineAsync(ct) is { } line)
            {
                if (line.StartsWith("progress ", StringComparison.Ordinal)
                    && int.TryParse(line.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var percent) && percent is >= 0 and <= 100)
                {
                    await progress(percent, ct);
                }
                else if (line.StartsWith("model ", StringComparison.Ordinal))
                {
                    model = line[6..].Trim();
                }
            }

            await process.WaitForExitAsync(ct);
            var tail = await errors;
            ct.ThrowIfCancellationRequested();
            return new TrainerResult(process.ExitCode, model, tail);
        }
        finally
        {
            KillTree(process);
            KillGroup(pid);
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill: nothing left to stop.
        }
    }

    /// <summary>SIGKILL to the trainer's process group: whatever of it is left (a child orphaned by the trainer's exit) goes.</summary>
    private static void KillGroup(int pgid) => _ = Kill(-pgid, SigKill);

    private static async Task<string> ReadTailAsync(StreamReader reader)
    {
        var tail = new Queue<string>(ErrorTailLines);
        while (await reader.ReadLineAsync() is { } line)
        {
            if (tail.Count == ErrorTailLines)
            {
                tail.Dequeue();
            }

            tail.Enqueue(line);
        }

        return string.Join(" | ", tail);
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
