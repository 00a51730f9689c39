using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Resilience.FaultInjection;

namespace Resilience.Http;

/// <summary>
/// Fault injection (chaos) for one client: fault responses, latency and exceptions in place of real attempts, each at
/// its own rate. Injected innermost, so an injected fault meets the attempt timeout, the breaker and the retries as a
/// real one would.
/// </summary>
/// <remarks>
/// Bound from configuration (<c>FaultInjection:Enabled</c>, <c>FaultInjection:Response:Rate</c>, …), so a configuration
/// reload switches it at run time; for a switch in code, set <see cref="Injector"/> and keep it.
/// </remarks>
public sealed class HttpFaultInjectionOptions
{
    /// <summary>Gets or sets a value indicating whether faults are injected at all.</summary>
    /// <value>Defaults to <see langword="false"/>: no fault injection layer is built.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets the injected fault responses: a response with <see cref="HttpFaultResponseOptions.StatusCode"/> instead of sending the request.</summary>
    [ValidateObjectMembers]
    public HttpFaultResponseOptions Response { get; } = new();

    /// <summary>Gets the injected latency: a wait before the attempt is sent (the attempt timeout cuts it short).</summary>
    [ValidateObjectMembers]
    public HttpFaultLatencyOptions Latency { get; } = new();

    /// <summary>Gets the injected exceptions: an <see cref="HttpRequestException"/> (a connection failure) instead of sending the request.</summary>
    [ValidateObjectMembers]
    public HttpFaultExceptionOptions Exception { get; } = new();

    /// <summary>Gets or sets a per-request switch, asked on every attempt while injection is enabled: faults are injected only into requests it accepts.</summary>
    /// <value>Defaults to <see langword="null"/>: every request. Not bindable from configuration.</value>
    /// <remarks>E.g. <c>r => r.Headers.Contains("X-Chaos")</c>, or a path prefix.</remarks>
    public Func<HttpRequestMessage, bool>? EnabledGenerator { get; set; }

    /// <summary>Gets or sets an injector of your own, used in place of the settings above: keep it to switch faults and rates at run time.</summary>
    /// <value>Defaults to <see langword="null"/>. Not bindable from configuration.</value>
    /// <remarks>
    /// Create it with <see cref="FaultInjectionOptions{TResult}"/> of <see cref="HttpResponseMessage"/> to inject responses;
    /// the request is in its generators' context (<see cref="HttpResilienceProperties.Request"/>).
    /// </remarks>
    public FaultInjector? Injector { get; set; }
}

/// <summary>Injected fault responses.</summary>
public sealed class HttpFaultResponseOptions
{
    /// <summary>Gets or sets a value indicating whether fault responses are injected.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt gets the fault response.</summary>
    /// <value>Defaults to 0.1.</value>
    [Range(0.0, 1.0)]
    public double Rate { get; set; } = HttpFaultInjection.DefaultRate;

    /// <summary>Gets or sets the fault response's status.</summary>
    /// <value>Defaults to 503. Between 100 and 599.</value>
    [Range(100, 599)]
    public int StatusCode { get; set; } = HttpFaultInjection.DefaultStatusCode;
}

/// <summary>Injected latency.</summary>
public sealed class HttpFaultLatencyOptions
{
    /// <summary>Gets or sets a value indicating whether latency is injected.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt waits <see cref="Delay"/> first.</summary>
    /// <value>Defaults to 0.1.</value>
    [Range(0.0, 1.0)]
    public double Rate { get; set; } = HttpFaultInjection.DefaultRate;

    /// <summary>Gets or sets how long an injected wait lasts.</summary>
    /// <value>Defaults to 2 seconds. Between 0 and 1 day.</value>
    [TimeSpanRange(HttpResilienceDefaults.MinDelay, HttpResilienceDefaults.MaxTimeout)]
    public TimeSpan Delay { get; set; } = HttpFaultInjection.DefaultLatency;
}

/// <summary>Injected exceptions.</summary>
public sealed class HttpFaultExceptionOptions
{
    /// <summary>Gets or sets a value indicating whether exceptions are injected.</summary>
    /// <value>Defaults to <see langword="false"/>.</value>
    public bool Enabled { get; set; }

    /// <summary>Gets or sets the probability, from 0 to 1, that an attempt fails with an <see cref="HttpRequestException"/>.</summary>
    /// <value>Defaults to 0.1.</value>
    [Range(0.0, 1.0)]
    public double Rate { get; set; } = HttpFaultInjection.DefaultRate;
}
