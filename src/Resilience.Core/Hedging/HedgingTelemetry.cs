using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Resilience.Telemetry;

namespace Resilience.Hedging;

/// <summary>Hedging's metrics, created once per meter, and its log events (IDs 1700–1799), per pipeline.</summary>
internal sealed partial class HedgingTelemetry : IResilienceInstruments<HedgingTelemetry>
{
    /// <summary>The tag saying what started a hedged attempt: <see cref="TriggerDelay"/> or <see cref="TriggerFailure"/>.</summary>
    public const string TriggerTag = "resilience.hedging.trigger";

    /// <summary>The tag naming an attempt by its number: 0 for the first, 1 for the first hedged attempt, and so on.</summary>
    public const string AttemptTag = "resilience.hedging.attempt";

    public const string TriggerDelay = "delay";

    public const string TriggerFailure = "failure";

    private readonly Counter<long> _hedges;
    private readonly Counter<long> _winners;
    private readonly Counter<long> _exhausted;

    // Attempt numbers as tag values without a string per call (MaxHedgedAttempts is at most 10).
    private static readonly string[] AttemptNames = CreateAttemptNames();

    private HedgingTelemetry(Meter meter)
    {
        _hedges = meter.CreateCounter<long>(
            "resilience.hedging.hedges", "{attempt}", "Hedged attempts started, by what started them.");
        _winners = meter.CreateCounter<long>(
            "resilience.hedging.winners", "{call}", "Calls that started a hedged attempt and got an acceptable outcome, by the attempt that won.");
        _exhausted = meter.CreateCounter<long>(
            "resilience.hedging.exhausted", "{call}", "Calls whose every attempt (first and hedged) failed.");
    }

    public static HedgingTelemetry Create(Meter meter) => new(meter);

    public void RecordHedge(ILogger logger, string name, int attempt, string trigger, TimeSpan delay)
    {
        if (_hedges.Enabled)
        {
            _hedges.Add(1, new TagList { { ResilienceTelemetry.NameTag, name }, { TriggerTag, trigger } });
        }

        if (logger.IsEnabled(LogLevel.Information))
        {
            HedgeStarted(logger, name, attempt, trigger, delay);
        }
    }

    public void RecordWinner(ILogger logger, string name, int attempt, int started)
    {
        if (_winners.Enabled)
        {
            _winners.Add(1, new TagList { { ResilienceTelemetry.NameTag, name }, { AttemptTag, AttemptNames[attempt] } });
        }

        if (logger.IsEnabled(LogLevel.Debug))
        {
            HedgeWon(logger, name, attempt, started);
        }
    }

    public void RecordExhausted(ILogger logger, string name, int started, Exception? lastException)
    {
        if (_exhausted.Enabled)
        {
            _exhausted.Add(1, new KeyValuePair<string, object?>(ResilienceTelemetry.NameTag, name));
        }

        HedgesExhausted(logger, lastException, name, started);
    }

    [LoggerMessage(EventId = ResilienceEventIds.HedgeStarted, EventName = "HedgeStarted", Level = LogLevel.Information,
        Message = "Pipeline '{PipelineName}': hedged attempt {Attempt} started ({Trigger}; delay {Delay}).")]
    private static partial void HedgeStarted(ILogger logger, string pipelineName, int attempt, string trigger, TimeSpan delay);

    [LoggerMessage(EventId = ResilienceEventIds.HedgeWon, EventName = "HedgeWon", Level = LogLevel.Debug,
        Message = "Pipeline '{PipelineName}': attempt {Attempt} won of {Started} started; the others were cancelled.")]
    private static partial void HedgeWon(ILogger logger, string pipelineName, int attempt, int started);

    [LoggerMessage(EventId = ResilienceEventIds.HedgesExhausted, EventName = "HedgesExhausted", Level = LogLevel.Warning,
        Message = "Pipeline '{PipelineName}': all {Started} attempts failed; the last failure surfaces.")]
    private static partial void HedgesExhausted(ILogger logger, Exception? exception, string pipelineName, int started);

    [LoggerMessage(EventId = ResilienceEventIds.HedgeCancellationFailed, EventName = "HedgeCancellationFailed", Level = LogLevel.Warning,
        Message = "Pipeline '{PipelineName}': cancelling abandoned attempt {Attempt} ran a token callback that threw; the attempt is abandoned anyway.")]
    public static partial void CancellationFailed(ILogger logger, Exception exception, string pipelineName, int attempt);

    private static string[] CreateAttemptNames()
    {
        var names = new string[HedgingConstants.MaxHedgedAttemptsLimit + 1];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return names;
    }
}
