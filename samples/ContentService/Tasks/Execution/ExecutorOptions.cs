using Microsoft.Extensions.Options;
using Resilience.Timeouts;

namespace ContentService.Tasks.Execution;

/// <summary>The task executor's knobs, bound from <c>Executor</c>.</summary>
internal sealed class ExecutorOptions
{
    public const string Section = "Executor";

    /// <summary>Concurrent workers in this instance; 0 runs the API only (another instance executes).</summary>
    public int Workers { get; set; } = 4;

    /// <summary>How often an idle worker looks for work created elsewhere or leases that expired.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claim holds without renewal; a crashed instance's tasks are picked up again after it. The running
    /// instance renews it every third of this (its heartbeat), so it can be short: 15 s (was 60 s, a dead instance's
    /// tasks showed "running" for a minute). Stages already finished are not run again by the next instance.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts before a failing task ends failed with its last error ID.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>The pause before a failed attempt is tried again.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The per-task time limit (<c>Limit</c>, default 15 minutes) and the grace period for the work to stop.</summary>
    public DeadlineOptions Deadline { get; init; } = new() { Name = "content-task" };

    /// <summary>This instance's name in leases; defaults to host name + process id + a random suffix.</summary>
    public string? InstanceId { get; set; }
}

/// <summary>Every rule of <see cref="ExecutorOptions"/>, each naming its key; the deadline through the library's own validator.</summary>
internal sealed class ExecutorOptionsValidator : IValidateOptions<ExecutorOptions>
{
    public ValidateOptionsResult Validate(string? name, ExecutorOptions options)
    {
        var errors = new List<string>();
        if (options.Workers is < 0 or > 64)
        {
            errors.Add("Executor:Workers: must be between 0 and 64.");
        }

        if (options.PollInterval < TimeSpan.FromMilliseconds(10) || options.PollInterval > TimeSpan.FromMinutes(5))
        {
            errors.Add("Executor:PollInterval: must be between 00:00:00.010 and 00:05:00.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1) || options.LeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add("Executor:LeaseDuration: must be between 00:00:01 and 01:00:00.");
        }

        if (options.MaxAttempts is < 1 or > 100)
        {
            errors.Add("Executor:MaxAttempts: must be between 1 and 100.");
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromHours(1))
        {
            errors.Add("Executor:RetryDelay: must be between 00:00:00 and 01:00:00.");
        }

        foreach (var failure in new DeadlineOptionsValidator().Validate(name, options.Deadline).Failures ?? [])
        {
            errors.Add("Executor:Deadline:" + failure);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
