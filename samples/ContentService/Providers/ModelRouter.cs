using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Resilience.Http;

namespace ContentService.Providers;

/// <summary>
/// The cost optimiser: tries the providers able to serve the task's complexity from the cheapest up. Each provider is
/// its own HttpClient with Resilience.Http (retry with a budget, its own breaker, timeouts), so an open or failing
/// provider is skipped in one step; the cost of each successful call is computed from the configured price. When all
/// fail, <see cref="UpstreamUnavailableException"/> — never made-up content.
/// </summary>
internal sealed partial class ModelRouter(IHttpClientFactory clients, IOptions<ProvidersOptions> options, ILogger<ModelRouter> logger)
{
    public const string ClientPrefix = "llm-";

    public Task<LlmResult> GenerateAsync(LlmCall call, string prompt, string mode, int targetWords, CancellationToken ct) =>
        RouteAsync(call, "generate", new LlmGenerateBody(prompt, mode, targetWords), static async (response, ct) =>
        {
            var answer = await response.Content.ReadFromJsonAsync<LlmGenerateAnswer>(ct);
            return answer is { Text.Length: > 0, Tokens: >= 0 } ? (answer.Text, null, answer.Tokens) : throw new InvalidDataException("The provider's answer has no text.");
        }, ct);

    public Task<LlmResult> CritiqueAsync(LlmCall call, string text, CancellationToken ct) =>
        RouteAsync(call, "critique", new LlmCritiqueBody(text), static async (response, ct) =>
        {
            var answer = await response.Content.ReadFromJsonAsync<LlmCritiqueAnswer>(ct);
            return answer is { Score: >= 0 and <= 10, Tokens: >= 0 } ? (text: "", (int?)answer.Score, answer.Tokens) : throw new InvalidDataException("The provider's score is out of range.");
        }, ct);

    /// <summary>The providers that may serve <paramref name="complexity"/>, cheapest first (ties keep configuration order).</summary>
    public IReadOnlyList<LlmProviderOptions> CandidatesFor(string complexity)
    {
        var rank = ProvidersOptions.Rank(complexity);
        var candidates = options.Value.Llm.Where(p => ProvidersOptions.Rank(p.MaxComplexity) >= rank).ToList();
        candidates.Sort(static (a, b) => a.UsdPer1KTokens.CompareTo(b.UsdPer1KTokens));
        return candidates;
    }

    private async Task<LlmResult> RouteAsync<TBody>(
        LlmCall call, string operation, TBody body, Func<HttpResponseMessage, CancellationToken, Task<(string Text, int? Score, int Tokens)>> read, CancellationToken ct)
    {
        TimeSpan? earliestBack = null;
        Exception? lastError = null;
        foreach (var provider in CandidatesFor(call.Complexity))
        {
            var client = clients.CreateClient(ClientPrefix + provider.Name);
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(operation, UriKind.Relative)) { Content = JsonContent.Create(body) };

            // Repeating a generation has no effect beyond its cost, so the call is marked safe to retry.
            request.Headers.Add("Idempotency-Key", string.Create(CultureInfo.InvariantCulture, $"{call.TaskId:N}-{call.Stage}-{call.Attempt}"));
            try
            {
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct);
                if (response.IsSuccessStatusCode)
                {
                    var (text, score, tokens) = await read(response, ct);
                    var cost = Math.Round(tokens * provider.UsdPer1KTokens / 1000m, 6);
                    LogServed(logger, call.TaskId, call.Stage, provider.Name, tokens, cost);
                    return new LlmResult(text, score, tokens, cost, provider.Name);
                }

                var outcome = HttpResilienceResponse.GetOutcome(response);
                if (outcome == HttpResilienceOutcome.None && !HttpFailureClassifier.IsTransient(response.StatusCode))
                {
                    // The provider refused the request itself: another provider would be asked the same thing.
                    throw new ProviderRejectedException($"The LLM provider rejected the {operation} request ({(int)response.StatusCode}).");
                }

                earliestBack = Earliest(earliestBack, response.Headers.RetryAfter?.Delta);
                LogSkipped(logger, call.TaskId, call.Stage, provider.Name, outcome == HttpResilienceOutcome.None ? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture) : outcome.ToString());
                lastError = new HttpRequestException($"{provider.Name}: {outcome}", null, response.StatusCode);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is HttpRequestException or InvalidDataException or System.Text.Json.JsonException or IOException or TaskCanceledException)
            {
                // A dropped connection, a cut or malformed answer, a timeout: this provider failed, the next one may not.
                LogSkipped(logger, call.TaskId, call.Stage, provider.Name, e.GetType().Name);
                lastError = e;
            }
        }

        var retryAfter = earliestBack ?? options.Value.AllDownRetryAfter;
        throw new UpstreamUnavailableException(
            UpstreamUnavailableException.Llm,
            $"No LLM provider able to serve a '{call.Complexity}' task is available (all failed or their circuits are open).", retryAfter, lastError);
    }

    private static TimeSpan? Earliest(TimeSpan? current, TimeSpan? candidate) =>
        candidate is not { } c || c <= TimeSpan.Zero ? current : current is { } k && k <= c ? k : c;

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information, Message = "Task {TaskId} {Stage}: served by {Provider}, {Tokens} tokens, {CostUsd} USD")]
    private static partial void LogServed(ILogger logger, Guid taskId, string stage, string provider, int tokens, decimal costUsd);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Warning, Message = "Task {TaskId} {Stage}: provider {Provider} skipped ({Reason}); trying the next one")]
    private static partial void LogSkipped(ILogger logger, Guid taskId, string stage, string provider, string reason);
}
