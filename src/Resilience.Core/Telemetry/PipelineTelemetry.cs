using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Resilience.Telemetry;

/// <summary>The pipeline's own instruments: how long whole calls and single attempts took, and how they ended.</summary>
/// <remarks>Timestamps are read only while someone listens, so an unobserved call pays one field read per histogram.</remarks>
internal sealed class PipelineTelemetry : IResilienceInstruments<PipelineTelemetry>
{
    // Boxed once: a listened-to attempt records without allocating its tag.
    private static readonly object[] BoxedAttempts = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    private readonly Histogram<double> _pipelineDuration;
    private readonly Histogram<double> _attemptDuration;

    private PipelineTelemetry(Meter meter)
    {
        _pipelineDuration = meter.CreateHistogram<double>(
            "resilience.pipeline.duration", "s", "Duration of calls through a pipeline, every attempt and delay included, by outcome.");
        _attemptDuration = meter.CreateHistogram<double>(
            "resilience.attempt.duration", "s", "Duration of each attempt of the operation, by attempt number and outcome.");
    }

    public bool PipelineEnabled => _pipelineDuration.Enabled;

    public bool AttemptEnabled => _attemptDuration.Enabled;

    public static PipelineTelemetry Create(Meter meter) => new(meter);

    public void RecordPipeline(string name, long started, Exception? failure, ResilienceContext? context, ResilienceTagEnricher? enricher)
    {
        var tags = Tags(name, failure);
        enricher?.Invoke(context, ref tags);
        _pipelineDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    public void RecordAttempt(string name, long started, Exception? failure, ResilienceContext? context, ResilienceTagEnricher? enricher)
    {
        var tags = Tags(name, failure);
        var attempt = context?.Attempt ?? 0;
        tags.Add(ResilienceTelemetry.AttemptTag, attempt < BoxedAttempts.Length ? BoxedAttempts[attempt] : attempt);
        enricher?.Invoke(context, ref tags);
        _attemptDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    private static TagList Tags(string name, Exception? failure)
    {
        var tags = new TagList
        {
            { ResilienceTelemetry.NameTag, name },
            { ResilienceTelemetry.OutcomeTag, failure is null ? "success" : failure is ExecutionRejectedException ? "rejected" : "failure" },
        };
        if (failure is not null)
        {
            tags.Add(ResilienceTelemetry.ReasonTag, failure.GetType().Name);
        }

        return tags;
    }
}
