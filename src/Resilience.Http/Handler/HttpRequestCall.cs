using System.Net;
using Resilience.Hedging;

namespace Resilience.Http;

/// <summary>The facts of one request while it runs through a pipeline: what each attempt sends, its deadline and why the retries stopped.</summary>
/// <remarks>
/// Travels to the attempts as the pipeline's state and to the retry predicate through <see cref="HttpRequestMessage.Options"/>
/// (the predicate sees only the outcome, whose response links back to its request).
/// </remarks>
internal sealed class HttpRequestCall
{
    public static readonly HttpRequestOptionsKey<HttpRequestCall> Key = new("Resilience.Http.Call");

    /// <summary>Where Core's retry leaves why it stopped, on the call's context (set only on that failure path).</summary>
    public static readonly ResiliencePropertyKey<Retry.RetryStopReason> RetryStoppedKey = new("Resilience.Http.RetryStopped");

    private readonly HttpResilienceEngine _engine;
    private readonly RequestContentReplay _replay;
    private bool _registered;
    private HttpRetryDecisions? _retry;
    private int _timedOutAttempts;

    public HttpRequestCall(
        HttpResilienceEngine engine, ResilienceHttpHandler handler, HttpRequestMessage request, RequestContentReplay replay, long startTimestamp, HttpRetryPermission permission, CancellationToken deadline)
    {
        _engine = engine;
        Deadline = deadline;
        Handler = handler;
        Request = request;
        _replay = replay;
        StartTimestamp = startTimestamp;
        Permission = permission;
    }

    public ResilienceHttpHandler Handler { get; }

    /// <summary>Gets how the request's body is resent, and restored when the call ends.</summary>
    public RequestContentReplay Replay => _replay;

    public HttpRequestMessage Request { get; }

    /// <summary>Gets when the request entered the handler: the total timeout counts from here.</summary>
    public long StartTimestamp { get; }

    public HttpRetryPermission Permission { get; }

    /// <summary>Gets the adapter's own total-timeout token, when it keeps one (a stream body was read first); else none.</summary>
    public CancellationToken Deadline { get; }

    /// <summary>Gets how many attempts were sent.</summary>
    public int Attempts { get; private set; }

    /// <summary>Gets the retry decisions of this request, created when a response is first judged for a retry (a healthy request never needs it).</summary>
    public HttpRetryDecisions Retry => _retry ??= new HttpRetryDecisions();

    /// <summary>Gets why the retries stopped, when the retry predicate stopped them (hint, deadline, open circuit).</summary>
    public HttpResilienceOutcome? StoppedBecause => _retry?.StoppedBecause;

    /// <summary>Gets why Core's retry stopped (retries used up, budget empty, no time left for the delay), when it stopped a failure it would have retried.</summary>
    public Retry.RetryStopReason? RetryStopped { get; private set; }

    /// <summary>Copies what Core's retry recorded on <paramref name="context"/>, before the context goes back to the pool.</summary>
    public void ReadRetryStop(ResilienceContext context) =>
        RetryStopped = context.HasProperties && context.Properties.TryGetValue(RetryStoppedKey, out var reason) ? reason : null;

    /// <summary>Gets the server's <c>Retry-After</c> accepted for the next retry, if the last response had one.</summary>
    public TimeSpan? RetryHint => _retry?.ServerHint;

    /// <summary>Gets a value indicating whether this request may be retried (safe to repeat, resendable, retries configured); else it is sent once.</summary>
    public bool Retries { get; init; }

    /// <summary>Gets the server's <c>Retry-After</c> that did not fit, when retries stopped for it.</summary>
    public TimeSpan? FailNowHint => _retry?.FailNowHint;

    /// <summary>Gets the status of the last attempt's response, if it had one (still known after the response is discarded).</summary>
    public HttpStatusCode? LastStatus { get; private set; }

    /// <summary>Gets the last attempt's error, if it failed with one.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Gets a value indicating whether attempts were sent and every one of them was cut off by a timeout (none answered or failed otherwise).</summary>
    public bool AllAttemptsTimedOut => Attempts > 0 && _timedOutAttempts == Attempts;

    /// <summary>
    /// Links the call to its request, so <see cref="Of"/> finds it from a response. Done before a hedged round (its copies
    /// carry the request's options) and, otherwise, only when an attempt failed: a healthy request never creates the
    /// request's options dictionary for it.
    /// </summary>
    public void Register()
    {
        if (!_registered)
        {
            _registered = true;
            Request.Options.Set(Key, this);
        }
    }

    /// <summary>Unlinks the call from its request when it was linked, before the response goes to the caller.</summary>
    public void Unregister()
    {
        if (_registered)
        {
            _registered = false;
            ((IDictionary<string, object?>)Request.Options).Remove(Key.Key);
        }
    }

    /// <summary>Finds the call a response belongs to (the response links to its request, the request holds the call).</summary>
    public static HttpRequestCall? Of(HttpResponseMessage response) =>
        response.RequestMessage is { } request && request.Options.TryGetValue(Key, out var call) ? call : null;

    /// <summary>Gets a value indicating whether this request goes through a hedging pipeline (a bodiless <c>GET</c> or <c>HEAD</c>, hedging on).</summary>
    public bool Hedged { get; init; }

    /// <summary>Sends one attempt: the request itself, or (<paramref name="hedgedAttempt"/> above 0, from the call's context) a hedged copy; to <paramref name="target"/> when routing chose one.</summary>
    public ValueTask<HttpResponseMessage> SendAttemptAsync(int hedgedAttempt, Uri? target, CancellationToken cancellationToken) =>
        Hedged && hedgedAttempt != 0 ? HttpHedging.SendCopyAsync(this, target, cancellationToken) : SendFirstAttemptAsync(target, cancellationToken);

    // Pooled: an I/O call completes asynchronously, and each layer's state machine would otherwise be a new box per call.
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<HttpResponseMessage> SendFirstAttemptAsync(Uri? target, CancellationToken cancellationToken)
    {
        if (target is not null)
        {
            // Hook (routing): the primary goes to its endpoint; the routing layer gives the request its URI back at the end.
            Request.RequestUri = target;
        }

        // These attempts never overlap: retry starts the next one after the previous outcome. Hedged copies run beside
        // them and touch none of this call's state (HttpHedging.SendCopyAsync).
        Attempts++;
        _replay.PrepareAttempt(Request);
        HttpResponseMessage response;
        try
        {
            response = await Handler.SendInnerAsync(Request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Whatever an attempt throws once its token is cancelled is a timeout's doing (the caller's own cancellation
            // ends the request without a synthesized answer), as the timeout layer reports it.
            if (cancellationToken.IsCancellationRequested)
            {
                _timedOutAttempts++;
            }

            LastStatus = null;
            LastError = e;
            throw;
        }

        response.RequestMessage ??= Request;
        if (_engine.IsTransient(Outcome.FromResult(response)))
        {
            // The retry predicate looks the call up from this response. Attempts of a call that is not hedged never
            // overlap, so nothing else touches the request's options now.
            Register();
        }

        LastStatus = response.StatusCode;
        LastError = null;
        return response;
    }
}

/// <summary>What the retry predicate decided for one request's responses: the next delay, or why the retries stopped.</summary>
internal sealed class HttpRetryDecisions
{
    /// <summary>Gets or sets why the retries stopped (hint, deadline, open circuit).</summary>
    public HttpResilienceOutcome? StoppedBecause { get; set; }

    /// <summary>Gets or sets the server's <c>Retry-After</c> that did not fit the maximum delay or the time left.</summary>
    public TimeSpan? FailNowHint { get; set; }

    /// <summary>Gets or sets the server's <c>Retry-After</c> accepted for the retry that was allowed; <see langword="null"/> without the header (Core's backoff alone).</summary>
    public TimeSpan? ServerHint { get; set; }
}
