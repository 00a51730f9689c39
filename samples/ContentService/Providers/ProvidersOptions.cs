using Microsoft.Extensions.Options;

namespace ContentService.Providers;

/// <summary>What to do with a task when every provider that could serve it is down.</summary>
internal enum AllProvidersDownPolicy
{
    /// <summary>Fail the task at once with ERR_UPSTREAM_UNAVAILABLE.</summary>
    Fail,

    /// <summary>Put the task back to pending until the earliest breaker may close, without counting an attempt.</summary>
    Wait,
}

/// <summary>One LLM provider of the router: its name (the path segment at the providers' base URL), price and the hardest task it can serve.</summary>
internal sealed class LlmProviderOptions
{
    public string Name { get; set; } = "";

    /// <summary>USD per 1,000 tokens; the router tries providers from the cheapest up.</summary>
    public decimal UsdPer1KTokens { get; set; }

    /// <summary>The highest task complexity (low, medium, high) this provider is good enough for.</summary>
    public string MaxComplexity { get; set; } = "high";
}

/// <summary>The LLM providers and the image CMS, bound from <c>Providers</c>; their resilience from <c>Resilience:Http:llm</c> and <c>Resilience:Http:cms</c>.</summary>
internal sealed class ProvidersOptions
{
    public const string Section = "Providers";

    /// <summary>Where the providers live (scripts/run-sample.sh starts FakeProviders there).</summary>
    public Uri? BaseUrl { get; set; }

    public List<LlmProviderOptions> Llm { get; init; } = [];

    public AllProvidersDownPolicy WhenAllDown { get; set; } = AllProvidersDownPolicy.Fail;

    /// <summary>How long a waiting task sleeps when no provider said when it will be back.</summary>
    public TimeSpan AllDownRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Critique scores below this (0-10) get one refine round.</summary>
    public int QualityThreshold { get; set; } = 7;

    public static readonly string[] Complexities = ["low", "medium", "high"];

    public static int Rank(string complexity) => Array.IndexOf(Complexities, complexity);
}

/// <summary>Every rule of <see cref="ProvidersOptions"/>, each message naming its key.</summary>
internal sealed class ProvidersOptionsValidator : IValidateOptions<ProvidersOptions>
{
    public ValidateOptionsResult Validate(string? name, ProvidersOptions options)
    {
        var errors = new List<string>();
        if (options.BaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("Providers:BaseUrl: must be an absolute http(s) URL, e.g. Providers__BaseUrl=http://127.0.0.1:5090/ (scripts/run-sample.sh sets it).");
        }

        if (options.Llm.Count == 0)
        {
            errors.Add("Providers:Llm: at least one LLM provider is required.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.Llm.Count; i++)
        {
            var llm = options.Llm[i];
            if (string.IsNullOrWhiteSpace(llm.Name) || !llm.Name.All(static c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                errors.Add($"Providers:Llm:{i}:Name: required; letters, digits and '-' only.");
            }
            else if (!names.Add(llm.Name))
            {
                errors.Add($"Providers:Llm:{i}:Name: '{llm.Name}' appears twice.");
            }

            if (llm.UsdPer1KTokens < 0)
            {
                errors.Add($"Providers:Llm:{i}:UsdPer1KTokens: must not be negative.");
            }

            if (ProvidersOptions.Rank(llm.MaxComplexity) < 0)
            {
                errors.Add($"Providers:Llm:{i}:MaxComplexity: must be one of {string.Join(", ", ProvidersOptions.Complexities)}.");
            }
        }

        if (options.Llm.Count > 0 && !options.Llm.Exists(static l => l.MaxComplexity == "high"))
        {
            errors.Add("Providers:Llm: no provider has MaxComplexity 'high', so high-complexity tasks could never run.");
        }

        if (options.AllDownRetryAfter < TimeSpan.FromSeconds(1) || options.AllDownRetryAfter > TimeSpan.FromHours(1))
        {
            errors.Add("Providers:AllDownRetryAfter: must be between 00:00:01 and 01:00:00.");
        }

        if (options.QualityThreshold is < 0 or > 10)
        {
            errors.Add("Providers:QualityThreshold: must be between 0 and 10.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
