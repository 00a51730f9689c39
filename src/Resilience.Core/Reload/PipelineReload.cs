using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Resilience.Reload;

/// <summary>
/// A pipeline registered with <c>AddPipeline</c>, kept in step with its options: when they change (valid ones only, see
/// <see cref="ValidatedReloadSource{TOptions}"/>) the pipeline is rebuilt and its layers swapped into the one instance
/// every caller holds. A rebuild that fails is logged and the layers in force stay.
/// </summary>
/// <typeparam name="TPipeline">The pipeline's type.</typeparam>
internal sealed class PipelineReload<TPipeline> : IDisposable
    where TPipeline : class, IReloadablePipeline
{
    private readonly string _name;
    private readonly Func<ResiliencePipelineOptions, PipelineCarry, TPipeline> _build;
    private readonly PipelineCarry _carry = new();
    private readonly ILogger _logger;
    private readonly IDisposable? _subscription;
    private readonly Lock _sync = new();

    public PipelineReload(IServiceProvider services, string name, Func<ResiliencePipelineOptions, PipelineCarry, TPipeline> build)
    {
        _name = name;
        _build = build;
        _logger = services.GetService<ILoggerFactory>()?.CreateLogger("Resilience.Reload") ?? NullLogger.Instance;
        var monitor = services.GetRequiredService<IOptionsMonitor<ResiliencePipelineOptions>>();

        // Subscribed before the first build, under the lock a change waits on, so no change slips between the two.
        lock (_sync)
        {
            _subscription = monitor.OnChange(OnChanged);
            Pipeline = build(monitor.Get(name), _carry);
        }
    }

    /// <summary>Gets the pipeline: one instance for the container's lifetime, whose layers follow the options.</summary>
    public TPipeline Pipeline { get; }

    public void Dispose()
    {
        _subscription?.Dispose();
        _carry.Dispose();
    }

    private void OnChanged(ResiliencePipelineOptions options, string? name)
    {
        if (!string.Equals(name, _name, StringComparison.Ordinal))
        {
            return;
        }

        lock (_sync)
        {
            try
            {
                Pipeline.Reload(_build(options, _carry).Engine);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // E.g. a CircuitBreaker section added after start-up (its breaker is registered at start-up only), or
                // code configuration that throws: the pipeline in force stays, and the monitor's listeners must not fail.
                ReloadLog.PipelineReloadFailed(_logger, e, _name);
            }
        }
    }
}
