using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Resilience.Telemetry;

namespace Resilience.AdaptiveThrottling;

/// <summary>
/// Client-side adaptive throttling: counts the requests sent and the requests the dependency accepted over a sliding
/// window, and refuses a request locally with probability <c>max(0, (requests − K × accepts) / (requests + 1))</c>.
/// A healthy dependency (accepts ≈ requests) sees no refusal; one that accepts nothing gets a trickle that tells the
/// client when it is back, and as the window slides past the bad period the odds fall back to zero.
/// </summary>
/// <remarks>Thread-safe and meant to be shared by the pipelines that call one dependency.</remarks>
public sealed class AdaptiveThrottler
{
    private const int Buckets = 10;

    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ILogger _logger;
    private readonly AdaptiveThrottlingTelemetry _telemetry;
    private readonly AdaptiveThrottlingOptions _options;
    private readonly long _bucketTicks;
    private readonly Lock _lock = new();

    // A ring of buckets, each a tenth of the window; guarded by _lock.
    private readonly long[] _requests = new long[Buckets];
    private readonly long[] _accepts = new long[Buckets];
    private long _currentBucket;
    private long _requestSum;
    private long _acceptSum;

    /// <summary>Initializes a new instance of the <see cref="AdaptiveThrottler"/> class.</summary>
    /// <param name="name">The throttler's name, in refusals, logs and metrics.</param>
    /// <param name="options">The options; validated here and copied.</param>
    /// <param name="timeProvider">The clock of the window; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    /// <param name="random">The source of the refusal draws (seed it to replay a run); <see cref="Random.Shared"/> when <see langword="null"/>.</param>
    /// <param name="logger">The logger; none when <see langword="null"/>.</param>
    /// <param name="meterFactory">Creates the meter of the throttler's counter; the static <c>Resilience</c> meter when <see langword="null"/>.</param>
    /// <exception cref="OptionsValidationException">The options are invalid; the message lists every error.</exception>
    public AdaptiveThrottler(string name, AdaptiveThrottlingOptions options, TimeProvider? timeProvider = null, Random? random = null, ILogger? logger = null, IMeterFactory? meterFactory = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        AdaptiveThrottlingOptionsValidator.ThrowIfInvalid(options);
        Name = name;
        _options = new AdaptiveThrottlingOptions(options);
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
        _logger = logger ?? NullLogger.Instance;
        _bucketTicks = Math.Max(1, options.Window.Ticks / Buckets);
        _currentBucket = Now() / _bucketTicks;
        _telemetry = ResilienceMeter.Instruments<AdaptiveThrottlingTelemetry>(meterFactory);
    }

    /// <summary>Gets the throttler's name.</summary>
    public string Name { get; }

    /// <summary>Gets a copy of the options in force.</summary>
    public AdaptiveThrottlingOptions Options => new(_options);

    /// <summary>Gets the probability with which a request is refused now.</summary>
    public double RejectionProbability
    {
        get
        {
            lock (_lock)
            {
                Slide();
                return ProbabilityLocked();
            }
        }
    }

    internal AdaptiveThrottlingOptions Settings => _options;

    /// <summary>Counts a request and decides whether it may be sent; <see langword="false"/>: refuse it locally.</summary>
    internal bool TryAdmit(out double probability)
    {
        lock (_lock)
        {
            Slide();
            probability = ProbabilityLocked();
            _requests[_currentBucket % Buckets]++;
            _requestSum++;
        }

        return probability <= 0 || Draw() >= probability;
    }

    /// <summary>Records what became of an admitted request.</summary>
    internal void Record(RequestEnd end)
    {
        lock (_lock)
        {
            Slide();
            var bucket = _currentBucket % Buckets;
            if (end == RequestEnd.Accepted)
            {
                _accepts[bucket]++;
                _acceptSum++;
            }
            else if (end == RequestEnd.NotSent && _requests[bucket] > 0)
            {
                // Refused inside (an open circuit): the dependency never saw it.
                _requests[bucket]--;
                _requestSum--;
            }
        }
    }

    /// <summary>The refusal of a request, counted, logged and told.</summary>
    internal AdaptiveThrottlingRejectedException Reject(double probability, ResilienceContext? context, CancellationToken cancellationToken)
    {
        _telemetry.RecordRejection(Name);
        AdaptiveThrottlingLog.Throttled(_logger, Name, probability);
        _options.OnThrottled?.Invoke(new ThrottledArguments(Name, probability, context ?? ResilienceContext.ForCall(cancellationToken)));
        return new AdaptiveThrottlingRejectedException(Name, probability, TimeSpan.FromTicks(_bucketTicks));
    }

    private double ProbabilityLocked()
    {
        if (_requestSum < _options.MinimumThroughput)
        {
            return 0;
        }

        return Math.Max(0, (_requestSum - (_options.Multiplier * _acceptSum)) / (_requestSum + 1));
    }

    // Empties the buckets the clock has moved past, so the window slides by tenths.
    private void Slide()
    {
        var bucket = Now() / _bucketTicks;
        if (bucket == _currentBucket)
        {
            return;
        }

        var stale = Math.Min(Buckets, bucket - _currentBucket);
        for (var i = 1; i <= stale; i++)
        {
            var index = (_currentBucket + i) % Buckets;
            _requestSum -= _requests[index];
            _acceptSum -= _accepts[index];
            _requests[index] = 0;
            _accepts[index] = 0;
        }

        _currentBucket = bucket;
    }

    private long Now() => _time.GetElapsedTime(0).Ticks;

    private double Draw()
    {
        if (ReferenceEquals(_random, Random.Shared))
        {
            return _random.NextDouble();
        }

        // A caller's seeded source is not thread-safe.
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}

/// <summary>What became of a request the throttler admitted.</summary>
internal enum RequestEnd
{
    /// <summary>The dependency accepted it (whatever it answered, it did not refuse).</summary>
    Accepted,

    /// <summary>The dependency refused or failed it: an overload signal.</summary>
    NotAccepted,

    /// <summary>A layer inside refused it, or the caller cancelled it: it tells nothing.</summary>
    NotSent,
}
