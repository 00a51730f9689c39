using System.Net;
using Resilience.CircuitBreaking;

namespace Resilience.Http;

/// <summary>Describes a retry as it is scheduled, as passed to <see cref="HttpResilienceOptions.OnRetry"/>.</summary>
public readonly struct HttpRetryArguments
{
    internal HttpRetryArguments(HttpRequestMessage request, string authority, int attempt, TimeSpan delay, HttpStatusCode? statusCode, Exception? exception)
    {
        Request = request;
        Authority = authority;
        Attempt = attempt;
        Delay = delay;
        StatusCode = statusCode;
        Exception = exception;
    }

    /// <summary>Gets the caller's request (method and URI).</summary>
    public HttpRequestMessage Request { get; }

    /// <summary>Gets the authority (<c>scheme://host:port</c>, or <c>*</c> when breakers are shared).</summary>
    public string Authority { get; }

    /// <summary>Gets the number of the attempt that failed: 1 for the first.</summary>
    public int Attempt { get; }

    /// <summary>Gets the delay before the next attempt.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the status of the failed attempt's response; <see langword="null"/> when it failed with an exception.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the failed attempt's exception; <see langword="null"/> when it got a response.</summary>
    public Exception? Exception { get; }
}

/// <summary>Describes a circuit breaker's change of state, as passed to <see cref="HttpResilienceOptions.OnCircuitOpened"/> and its siblings.</summary>
public readonly struct HttpCircuitArguments
{
    internal HttpCircuitArguments(string authority, in CircuitStateChange change, HttpRequestMessage? request, int attempt, HttpStatusCode? statusCode)
    {
        Authority = authority;
        Change = change;
        Request = request;
        Attempt = attempt;
        StatusCode = statusCode;
    }

    /// <summary>Gets the authority whose breaker changed (<c>scheme://host:port</c>, or <c>*</c> when breakers are shared).</summary>
    public string Authority { get; }

    /// <summary>Gets the change: states before and after, why, the break duration, the breaker's name.</summary>
    public CircuitStateChange Change { get; }

    /// <summary>Gets the request whose attempt caused the change; <see langword="null"/> when none did (a manual reset or isolation).</summary>
    public HttpRequestMessage? Request { get; }

    /// <summary>Gets the number of that request's attempt (1 for the first); 0 without a request.</summary>
    public int Attempt { get; }

    /// <summary>Gets the status of the response that caused the change, if a response did.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the exception that caused the change, if one did.</summary>
    public Exception? Exception => Change.Exception;
}

/// <summary>Describes a hedged attempt as it starts, as passed to <see cref="HttpResilienceOptions.OnHedging"/>.</summary>
public readonly struct HttpHedgingArguments
{
    internal HttpHedgingArguments(HttpRequestMessage request, int attempt, int hedgedAttempt, TimeSpan delay)
    {
        Request = request;
        Attempt = attempt;
        HedgedAttempt = hedgedAttempt;
        Delay = delay;
    }

    /// <summary>Gets the caller's request, of which a copy is sent.</summary>
    public HttpRequestMessage Request { get; }

    /// <summary>Gets the number of the retry round the copy belongs to: 1 for the first.</summary>
    public int Attempt { get; }

    /// <summary>Gets the copy's number within the round: 1 for the first copy.</summary>
    public int HedgedAttempt { get; }

    /// <summary>Gets how long the round waited before sending it; zero when an attempt failed and it started at once.</summary>
    public TimeSpan Delay { get; }
}

/// <summary>Describes a stored response served in place of a failure, as passed to <see cref="HttpResilienceOptions.OnFallback"/>.</summary>
public readonly struct HttpFallbackArguments
{
    internal HttpFallbackArguments(HttpRequestMessage request, int attempts, TimeSpan age, HttpStatusCode? statusCode, Exception? exception)
    {
        Request = request;
        Attempts = attempts;
        Age = age;
        StatusCode = statusCode;
        Exception = exception;
    }

    /// <summary>Gets the caller's request.</summary>
    public HttpRequestMessage Request { get; }

    /// <summary>Gets how many attempts were sent before the stored response was served (0 when the circuit was open).</summary>
    public int Attempts { get; }

    /// <summary>Gets the served response's age.</summary>
    public TimeSpan Age { get; }

    /// <summary>Gets the status of the last attempt's response, if it had one.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the last attempt's exception, or the rejection (open circuit, timeout) that ended the request.</summary>
    public Exception? Exception { get; }
}
