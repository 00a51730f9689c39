using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ContentService.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium, headless, driven through Debian's chromedriver (Selenium). Nothing is downloaded: both paths
/// are given to Selenium, so its driver manager never runs. Each instance gets a new, empty profile.
/// </summary>
internal sealed class HeadlessChromium : IDisposable
{
    private static readonly string? BrowserPath = Find("CHROMIUM_PATH", "/usr/bin/chromium", "/usr/bin/chromium-browser");
    private static readonly string? DriverPath = Find("CHROMEDRIVER_PATH", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");

    private readonly DirectoryInfo _profile;

    private HeadlessChromium(ChromeDriver driver, DirectoryInfo profile)
    {
        Driver = driver;
        _profile = profile;
    }

    /// <summary>Why the browser cannot start here, or null when Chromium and chromedriver are installed.</summary>
    public static string? MissingReason => BrowserPath is null || DriverPath is null
        ? $"Chromium or chromedriver is missing (browser: {BrowserPath ?? "not found"}, driver: {DriverPath ?? "not found"}). " +
          "Install them with 'apt-get install -y chromium chromium-driver' (scripts/test.sh does), or set CHROMIUM_PATH and CHROMEDRIVER_PATH."
        : null;

    /// <summary>Whether this run is CI, where a missing browser is a failure, never a skip.</summary>
    public static bool IsContinuousIntegration => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public ChromeDriver Driver { get; }

    public static HeadlessChromium Start()
    {
        if (MissingReason is { } missing)
        {
            throw new InvalidOperationException(missing);
        }

        var profile = Directory.CreateTempSubdirectory("statuspage-chromium-");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(DriverPath)!, Path.GetFileName(DriverPath)!);
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = BrowserPath };
        options.AddArguments(
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1400",
            "--user-data-dir=" + profile.FullName);
        options.SetLoggingPreference(LogType.Browser, LogLevel.All);
        try
        {
            return new HeadlessChromium(new ChromeDriver(service, options, TimeSpan.FromSeconds(60)), profile);
        }
        catch
        {
            service.Dispose();
            profile.Delete(recursive: true);
            throw;
        }
    }

    /// <summary>The console's errors so far (script errors, failed requests, console.error), as "level: message".</summary>
    public IReadOnlyList<string> ConsoleErrors()
    {
        var errors = new List<string>();
        foreach (var entry in Driver.Manage().Logs.GetLog(LogType.Browser))
        {
            if (entry.Level >= LogLevel.Severe)
            {
                errors.Add($"{entry.Level}: {entry.Message}");
            }
        }

        return errors;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium's helpers may still be closing files; the profile is in the temp folder and holds nothing of value.
        }
    }

    private static string? Find(string variable, params string[] candidates)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>A test that needs <see cref="HeadlessChromium"/>: skipped (visibly) on a developer machine without it, run — and so failed — in CI.</summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!HeadlessChromium.IsContinuousIntegration && HeadlessChromium.MissingReason is { } missing)
        {
            Skip = missing;
        }
    }
}
