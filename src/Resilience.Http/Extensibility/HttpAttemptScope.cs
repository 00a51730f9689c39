using System.Net;

namespace Resilience.Http;

/// <summary>
/// The attempt running in this async flow, so a breaker's callback (Core raises it with the state change only) can say
/// which request and attempt caused it. Kept only when the client has breaker callbacks: one object per attempt.
/// </summary>
internal sealed class HttpAttemptScope
{
    private static readonly AsyncLocal<HttpAttemptScope?> Flow = new();

    private HttpAttemptScope(HttpRequestMessage? request, int attempt)
    {
        Request = request;
        Attempt = attempt;
    }

    /// <summary>Gets the attempt running in this async flow, if the scope layers run.</summary>
    public static HttpAttemptScope? Current => Flow.Value;

    public HttpRequestMessage? Request { get; }

    /// <summary>Gets the attempt's number: 1 for the first.</summary>
    public int Attempt { get; }

    /// <summary>Gets the status of the attempt's response, once it came.</summary>
    public HttpStatusCode? StatusCode { get; private set; }

    /// <summary>Opens the scope around the breaker (outermost at the attempt position), so its callbacks run inside it.</summary>
    internal sealed class EnterLayer : ResilienceLayer
    {
        public static readonly EnterLayer Instance = new();

        public override string Name => "http-attempt-scope";

        protected internal override async ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            // Set inside an async method: the value flows down into the attempt and is gone when it returns.
            Flow.Value = new HttpAttemptScope(HttpResilienceProperties.GetRequest(context), context.Attempt + 1);
            return await callback(context, state).ConfigureAwait(false);
        }
    }

    /// <summary>Notes the attempt's status innermost, before the breaker records the outcome.</summary>
    internal sealed class OutcomeLayer : ResilienceLayer
    {
        public static readonly OutcomeLayer Instance = new();

        public override string Name => "http-attempt-outcome";

        protected internal override ValueTask<Outcome<TResult>> InvokeAsync<TResult, TState>(
            Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
        {
            var pending = callback(context, state);
            if (pending.IsCompletedSuccessfully)
            {
                Note(pending.Result);
                return pending;
            }

            return AwaitAsync(pending);
        }

        private static async ValueTask<Outcome<TResult>> AwaitAsync<TResult>(ValueTask<Outcome<TResult>> pending)
        {
            var outcome = await pending.ConfigureAwait(false);
            Note(outcome);
            return outcome;
        }

        private static void Note<TResult>(Outcome<TResult> outcome)
        {
            if (Flow.Value is { } scope && outcome.Result is HttpResponseMessage response)
            {
                scope.StatusCode = response.StatusCode;
            }
        }
    }
}
