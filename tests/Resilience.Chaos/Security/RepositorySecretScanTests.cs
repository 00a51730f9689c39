using System.Diagnostics;

namespace Resilience.Chaos.Security;

/// <summary>No tracked file holds a password or a key: the repository is scanned as git would publish it.</summary>
public sealed class RepositorySecretScanTests
{
    private const long MaxScannedBytes = 2 * 1024 * 1024;

    [Fact]
    public async Task TrackedFiles_NoPasswordsOrKeys_OutsideClearlyLocalFixtures()
    {
        var root = FindRepositoryRoot();
        var files = await ListTrackedFilesAsync(root);
        Assert.True(files.Count > 100, $"git ls-files listed only {files.Count} files under {root}");

        var findings = new List<SecretScanner.Finding>();
        var scanned = 0;
        foreach (var file in files)
        {
            var full = Path.Combine(root, file);
            if (!File.Exists(full) || new FileInfo(full).Length > MaxScannedBytes)
            {
                continue;
            }

            var text = await File.ReadAllTextAsync(full);
            if (text.Contains('\0', StringComparison.Ordinal))
            {
                continue; // Binary.
            }

            scanned++;
            findings.AddRange(SecretScanner.Scan(file, text.Split('\n')));
        }

        Assert.True(scanned > 100, $"only {scanned} text files scanned");
        Assert.True(findings.Count == 0, "Credentials in tracked files (move them to configuration or the environment):\n" + string.Join('\n', findings));
    }

    [Theory]
    [InlineData("src/App/appsettings.json", "  \"ConnectionStrings\": { \"Db\": \"Host=db.internal;Username=app;Password=S3cr3tExampleValue\" }", "connection-string password")]
    [InlineData("docs/setup.md", "export DATABASE_URL=postgres://app:S3cr3tExampleValue@db.internal/app", "URL credentials")]
    [InlineData("samples/Service/appsettings.json", "  \"ApiKey\": \"9f8e7d6c5b4a39281706\"", "JSON/YAML secret setting")]
    [InlineData("src/Lib/Client.cs", "        var options = new Options { ApiKey = \"9f8e7d6c5b4a39281706\" };", "secret assigned in code")]
    [InlineData("tests/X/Fixture.cs", "Host=10.1.2.3;Pass" + "word=Pr0duction!", "connection-string password")] // split: this file is scanned too
    [InlineData("src/X/Keys.cs", "    public const string ApiKey = \"test-key-0123456789abcdef\";", "secret assigned in code")]
    public void Scan_RealLookingCredential_IsReportedWithFileAndLine(string path, string line, string kind)
    {
        var finding = Assert.Single(SecretScanner.Scan(path, ["first line", line]));

        Assert.Equal($"{path}:2: {kind}", finding.ToString());
    }

    [Fact]
    public void Scan_KeyShapedStrings_AreReported()
    {
        // Assembled at run time so this file does not itself hold key-shaped strings.
        string[] keys =
        [
            "AKIA" + new string('Q', 16),
            "-----BEGIN RSA " + "PRIVATE KEY-----",
            "ghp_" + new string('a', 36),
            "xoxb-" + "1234567890-abcdef",
            "sk-" + new string('Z', 40),
            "sk_live_" + new string('9', 24),
            "AIza" + new string('k', 35),
            "eyJ" + "hbGciOiJIUzI1NiJ9" + ".eyJ" + "zdWIiOiIxMjM0NSJ9" + "." + "abcdefghijklmnop",
        ];

        foreach (var key in keys)
        {
            Assert.Single(SecretScanner.Scan("src/Config.cs", ["var k = \"" + key + "\";"]));
        }
    }

    [Theory]
    [InlineData("scripts/postgres.sh", "  local cs=\"Host=127.0.0.1;Port=$port;Database=$DB_NAME;Username=$DB_USER;Password=$password\"")]
    [InlineData("README.md", "Host=db;Username=app;Password=<your password>")]
    [InlineData("docs/x.md", "Password=*** (masked)")]
    [InlineData("tests/X/ClassificationTests.cs", "NpgsqlDataSource.Create(\"Host=127.0.0.1;Port=1;Username=x;Password=y;Timeout=2\")")]
    [InlineData("tests/X/TranslatorTests.cs", "new NpgsqlException(\"Failed to connect to 10.0.0.1:5432 with Password=hunter2\")")]
    [InlineData("tests/X/KeyTests.cs", "var key = \"sk-test-" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\";")]
    [InlineData("tests/X/AuthorityTests.cs", "[InlineData(\"https://user:pw@api.test/v1/items?api_key=secret#top\")]")]
    [InlineData("tests/X/ServiceFactory.cs", "    public const string ApiKey = \"test-key-0123456789abcdef\";")]
    [InlineData("src/X/Options.cs", "builder.Password = options.Password;")]
    [InlineData("scripts/demo.sh", "  API_KEY=\"demo-$(head -c 24 /dev/urandom | base64)\"")]
    public void Scan_PlaceholdersAndClearlyLocalFixtures_Pass(string path, string line)
    {
        Assert.Empty(SecretScanner.Scan(path, [line]));
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            // A worktree's .git is a file, a clone's a directory.
            if (Path.Exists(Path.Combine(dir.FullName, ".git")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("No git repository above " + AppContext.BaseDirectory);
    }

    private static async Task<List<string>> ListTrackedFilesAsync(string root)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("ls-files");
        start.ArgumentList.Add("-z");
        using var git = Process.Start(start) ?? throw new InvalidOperationException("git could not be started");
        var listing = git.StandardOutput.ReadToEndAsync();
        var errors = git.StandardError.ReadToEndAsync();
        await git.WaitForExitAsync();
        Assert.True(git.ExitCode == 0, "git ls-files failed: " + await errors);
        return [.. (await listing).Split('\0', StringSplitOptions.RemoveEmptyEntries)];
    }
}
