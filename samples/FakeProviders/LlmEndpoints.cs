using System.Globalization;

namespace FakeProviders;

/// <summary>A named LLM provider of the catalogue: its tier and what a thousand tokens cost there.</summary>
internal sealed record LlmProvider(string Name, string Tier, decimal UsdPer1KTokens);

/// <summary>
/// The fake LLM providers: a local/free one, a budget one and a premium one, each with its own price and its own fault
/// target (the provider name). Output is deterministic: the same request always gets the same text, tokens and score.
/// </summary>
internal static class LlmEndpoints
{
    public static readonly LlmProvider[] Catalogue =
    [
        new("local", "free", 0m),
        new("budget", "budget", 0.0005m),
        new("premium", "premium", 0.0150m),
    ];

    public static WebApplication MapLlm(this WebApplication app)
    {
        app.MapGet("/llm/providers", () => Results.Ok(Catalogue));

        // Draft or refine: "mode" = "draft" (default) writes about the prompt, "refine" improves the text given as prompt.
        app.MapPost("/llm/{provider}/generate", async (string provider, GenerateRequest request, FaultBoard board, HttpContext http) =>
        {
            var (llm, early) = await EnterAsync(provider, request.Prompt, "prompt", board, http);
            if (early is not null)
            {
                return early;
            }

            var prompt = request.Prompt!.Trim();
            var text = request.Mode == "refine"
                ? $"{prompt} [refined by {llm.Name}]"
                : $"[{llm.Name}] {prompt}: a deterministic draft of about {request.TargetWords ?? 300} words.";
            var tokens = Tokens(prompt) + Tokens(text);
            return Results.Ok(new GenerateResponse(text, tokens, Cost(llm, tokens), llm.Name));
        });

        // Quality score 0-10 of a text: 9 once refined, 5 for a text marked "rough", else 8 — so tests and the demo
        // can choose whether the refine round runs.
        app.MapPost("/llm/{provider}/critique", async (string provider, CritiqueRequest request, FaultBoard board, HttpContext http) =>
        {
            var (llm, early) = await EnterAsync(provider, request.Text, "text", board, http);
            if (early is not null)
            {
                return early;
            }

            var score = request.Text!.Contains("[refined", StringComparison.Ordinal) ? 9
                : request.Text.Contains("rough", StringComparison.OrdinalIgnoreCase) ? 5
                : 8;
            var tokens = Tokens(request.Text) + 16;
            return Results.Ok(new CritiqueResponse(score, tokens, Cost(llm, tokens), llm.Name));
        });
        return app;
    }

    /// <summary>What every call does first: find the provider, apply its faults, check the input. A non-null result answers the call.</summary>
    private static async Task<(LlmProvider Llm, IResult? Early)> EnterAsync(string provider, string? input, string field, FaultBoard board, HttpContext http)
    {
        if (Find(provider) is not { } llm)
        {
            return (Catalogue[0], UnknownProvider(provider));
        }

        if (await board.InjectAsync(llm.Name, http) is { } fault)
        {
            return (llm, fault);
        }

        return string.IsNullOrWhiteSpace(input)
            ? (llm, Results.Problem(statusCode: 422, title: $"{field} is required", extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_VALIDATION" }))
            : (llm, null);
    }

    private static LlmProvider? Find(string name) => Array.Find(Catalogue, p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));

    private static IResult UnknownProvider(string name) => Results.Problem(
        statusCode: 404,
        title: string.Create(CultureInfo.InvariantCulture, $"unknown provider '{name}'"),
        extensions: new Dictionary<string, object?> { ["errorId"] = "ERR_NOT_FOUND" });

    private static int Tokens(string text) => Math.Max(1, text.Length / 4);

    private static decimal Cost(LlmProvider llm, int tokens) => Math.Round(tokens * llm.UsdPer1KTokens / 1000m, 6);
}
