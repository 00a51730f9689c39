namespace ContentService.Providers;

/// <summary>One LLM call a task makes; the key makes a retried call safe to repeat (the handler only retries POSTs that carry one).</summary>
internal sealed record LlmCall(Guid TaskId, string Stage, int Attempt, string Complexity);

/// <summary>What a call produced and cost.</summary>
internal sealed record LlmResult(string Text, int? Score, int Tokens, decimal CostUsd, string Provider);

internal sealed record LlmGenerateBody(string Prompt, string Mode, int TargetWords);

internal sealed record LlmGenerateAnswer(string? Text, int Tokens);

internal sealed record LlmCritiqueBody(string Text);

internal sealed record LlmCritiqueAnswer(int Score, int Tokens);
