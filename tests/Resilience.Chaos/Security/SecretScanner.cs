using System.Text.RegularExpressions;

namespace Resilience.Chaos.Security;

/// <summary>
/// Finds credentials in text: connection strings and settings with a literal password, and strings shaped like cloud,
/// chat or payment keys, tokens and private keys. Placeholders (<c>$password</c>, <c>{secret}</c>, <c>&lt;key&gt;</c>,
/// <c>***</c>) pass everywhere. Under <c>tests/</c> and <c>samples/</c> a throwaway credential passes only when it is
/// clearly local: its line names a loopback host or a host under a TLD reserved for testing (RFC 2606: <c>.test</c>,
/// <c>.example</c>, <c>.invalid</c>, <c>.localhost</c>), or its value is an obvious dummy (<c>hunter2</c>, <c>x</c>,
/// <c>test</c>…) or says it is one (<c>test-key-…</c>, <c>fake</c>, <c>dummy</c>…), as a key-shaped test value must.
/// </summary>
internal static partial class SecretScanner
{
    private static readonly string[] FixtureFolders = ["tests/", "samples/"];
    private static readonly string[] LoopbackHosts = ["127.0.0.1", "localhost", "::1"];
    private static readonly HashSet<string> DummyValues = new(StringComparer.OrdinalIgnoreCase)
    {
        "x", "y", "hunter2", "secret", "password", "pass", "test", "dummy", "fake", "changeme", "postgres",
    };

    private static readonly string[] SelfDeclaredFakes = ["test", "fake", "dummy", "example", "local", "sample"];

    private static readonly (string Kind, Regex Pattern)[] Passwords =
    [
        ("connection-string password", ConnectionStringPassword()),
        ("URL credentials", UrlCredentials()),
        ("JSON/YAML secret setting", JsonSecret()),
        ("secret assigned in code", CodeSecret()),
    ];

    private static readonly (string Kind, Regex Pattern)[] Keys =
    [
        ("AWS access key", AwsKey()),
        ("private key block", PrivateKey()),
        ("GitHub token", GitHubToken()),
        ("Slack token", SlackToken()),
        ("API secret key (sk-…)", SkKey()),
        ("live payment key", LiveKey()),
        ("Google API key", GoogleKey()),
        ("JSON Web Token", Jwt()),
    ];

    /// <summary>Scans one file's lines; <paramref name="path"/> is repository-relative with forward slashes.</summary>
    public static IEnumerable<Finding> Scan(string path, IReadOnlyList<string> lines)
    {
        var fixture = FixtureFolders.Any(f => path.StartsWith(f, StringComparison.Ordinal));
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i];
            foreach (var (kind, pattern) in Passwords)
            {
                foreach (Match match in pattern.Matches(line))
                {
                    var value = match.Groups["value"].Value;
                    if (!IsPlaceholder(value) && !(fixture && (IsLoopback(line) || DummyValues.Contains(value) || SaysItIsFake(value))))
                    {
                        yield return new Finding(path, i + 1, kind);
                    }
                }
            }

            foreach (var (kind, pattern) in Keys)
            {
                foreach (Match match in pattern.Matches(line))
                {
                    if (!(fixture && SaysItIsFake(match.Value)))
                    {
                        yield return new Finding(path, i + 1, kind);
                    }
                }
            }
        }
    }

    private static bool SaysItIsFake(string value) => SelfDeclaredFakes.Any(f => value.Contains(f, StringComparison.OrdinalIgnoreCase));

    // A value built at run time (shell command or variable substitution) is not a literal secret.
    private static bool IsPlaceholder(string value) =>
        value.Length == 0 || value[0] is '$' or '{' or '<' or '%' or '*' or '…' || value is "..." or "xxx"
        || value.Contains("$(", StringComparison.Ordinal) || value.Contains("${", StringComparison.Ordinal);

    private static bool IsLoopback(string line) =>
        LoopbackHosts.Any(h => line.Contains(h, StringComparison.OrdinalIgnoreCase)) || ReservedTestHost().IsMatch(line);

    [GeneratedRegex(@"(?i)[a-z0-9-]\.(?:test|example|invalid|localhost)\b")]
    private static partial Regex ReservedTestHost();

    [GeneratedRegex(@"(?i)(?:^|[;""'\s])(?:password|pwd)=(?<value>[^;""'\s\\]+)")]
    private static partial Regex ConnectionStringPassword();

    [GeneratedRegex(@"(?i)\b[a-z][a-z0-9+.-]*://[^:/\s@""']+:(?<value>[^@/\s""']+)@")]
    private static partial Regex UrlCredentials();

    [GeneratedRegex(@"(?i)[""']?\b(?:password|pwd|secret|client[_-]?secret|api[_-]?key|access[_-]?token|auth[_-]?token)[""']?\s*:\s*[""'](?<value>[^""']+)[""']")]
    private static partial Regex JsonSecret();

    [GeneratedRegex(@"(?i)\b(?:password|secret|api[_-]?key|access[_-]?token)\s*=\s*""(?<value>[^""]{6,})""")]
    private static partial Regex CodeSecret();

    [GeneratedRegex(@"\bAKIA[0-9A-Z]{16}\b")]
    private static partial Regex AwsKey();

    [GeneratedRegex(@"-----BEGIN [A-Z ]*PRIVATE KEY-----")]
    private static partial Regex PrivateKey();

    [GeneratedRegex(@"\bgh[pousr]_[A-Za-z0-9]{36,}")]
    private static partial Regex GitHubToken();

    [GeneratedRegex(@"\bxox[abprs]-[A-Za-z0-9-]{10,}")]
    private static partial Regex SlackToken();

    [GeneratedRegex(@"\bsk-[A-Za-z0-9_-]{32,}")]
    private static partial Regex SkKey();

    [GeneratedRegex(@"\b[rs]k_live_[A-Za-z0-9]{16,}")]
    private static partial Regex LiveKey();

    [GeneratedRegex(@"\bAIza[0-9A-Za-z_-]{35}\b")]
    private static partial Regex GoogleKey();

    [GeneratedRegex(@"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}")]
    private static partial Regex Jwt();

    /// <summary>Where a credential was found; the value itself is never repeated.</summary>
    public sealed record Finding(string Path, int Line, string Kind)
    {
        public override string ToString() => $"{Path}:{Line}: {Kind}";
    }
}
