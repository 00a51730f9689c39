using Microsoft.Extensions.Options;

namespace ContentService.FineTuning;

/// <summary>Fine-tuning jobs, bound from <c>FineTuning</c>; the upload's resilience from <c>Resilience:Http:fine-tuning</c>.</summary>
internal sealed class FineTuningOptions
{
    public const string Section = "FineTuning";

    /// <summary>The trainer: a script run with bash (the sample ships <c>FineTuning/Trainer/trainer.sh</c>); relative to the app's directory.</summary>
    public string Trainer { get; set; } = "FineTuning/Trainer/trainer.sh";

    /// <summary>How long the trainer spends on one epoch (the stand-in's only work is waiting).</summary>
    public TimeSpan EpochDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A job's time limit, the task deadline's 15 minutes by default; at the limit the trainer's tree is killed and the job fails with ERR_TIMEOUT.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Where each job gets its own temporary directory (removed when the job ends); defaults to the system temp directory.</summary>
    public string? WorkDirectory { get; set; }

    /// <summary>Jobs running at once in this instance; more are refused with 503 and Retry-After.</summary>
    public int MaxConcurrentJobs { get; set; } = 2;

    /// <summary>The most training examples one job accepts.</summary>
    public int MaxExamples { get; set; } = 1000;

    public string ResolveWorkDirectory() =>
        string.IsNullOrWhiteSpace(WorkDirectory) ? Path.Combine(Path.GetTempPath(), "content-service-fine-tuning") : WorkDirectory;

    public string ResolveTrainer() => Path.IsPathRooted(Trainer) ? Trainer : Path.Combine(AppContext.BaseDirectory, Trainer);
}

/// <summary>Every rule of <see cref="FineTuningOptions"/>, each message naming its key.</summary>
internal sealed class FineTuningOptionsValidator : IValidateOptions<FineTuningOptions>
{
    public ValidateOptionsResult Validate(string? name, FineTuningOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Trainer) || !File.Exists(options.ResolveTrainer()))
        {
            errors.Add($"FineTuning:Trainer: no trainer script at '{options.Trainer}'.");
        }

        if (options.EpochDuration < TimeSpan.Zero || options.EpochDuration > TimeSpan.FromMinutes(10))
        {
            errors.Add("FineTuning:EpochDuration: must be between 00:00:00 and 00:10:00.");
        }

        if (options.Deadline < TimeSpan.FromMilliseconds(100) || options.Deadline > TimeSpan.FromHours(6))
        {
            errors.Add("FineTuning:Deadline: must be between 00:00:00.100 and 06:00:00.");
        }

        if (options.MaxConcurrentJobs is < 1 or > 64)
        {
            errors.Add("FineTuning:MaxConcurrentJobs: must be between 1 and 64.");
        }

        if (options.MaxExamples is < 1 or > 100_000)
        {
            errors.Add("FineTuning:MaxExamples: must be between 1 and 100000.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
