using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace ContentService.Tests.Infrastructure;

/// <summary>
/// Debian's Prometheus (package <c>prometheus</c>; scripts/test.sh installs it when missing), started on a free
/// loopback port with a throwaway storage folder, scraping one target every second.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly string? BinaryPath = Find();
    private readonly Process _process;
    private readonly DirectoryInfo _folder;

    private PrometheusServer(Process process, DirectoryInfo folder, Uri address)
    {
        _process = process;
        _folder = folder;
        Client = new HttpClient { BaseAddress = address };
    }

    /// <summary>Why Prometheus cannot start here, or null when it is installed.</summary>
    public static string? MissingReason => BinaryPath is null
        ? "Prometheus is missing: install it with 'apt-get install -y prometheus' (scripts/test.sh does), or set PROMETHEUS_PATH."
        : null;

    public HttpClient Client { get; }

    public static PrometheusServer Start(Uri target, string job)
    {
        if (MissingReason is { } missing)
        {
            throw new InvalidOperationException(missing);
        }

        var folder = Directory.CreateTempSubdirectory("prometheus-");
        var config = Path.Combine(folder.FullName, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: {job}
                metrics_path: /metrics
                static_configs:
                  - targets: ['{target.Authority}']
            """);
        var port = FreePort();
        var start = new ProcessStartInfo(BinaryPath!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--config.file=" + config,
            "--storage.tsdb.path=" + Path.Combine(folder.FullName, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;

        // Its log goes to stderr; drained so a full pipe never blocks it.
        process.ErrorDataReceived += static (_, _) => { };
        process.OutputDataReceived += static (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return new PrometheusServer(process, folder, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>Runs an instant PromQL query and returns its vector's sample values.</summary>
    public async Task<IReadOnlyList<double>> QueryAsync(string promQl)
    {
        using var response = await Client.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(promQl), UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Prometheus answered {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            _folder.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A throwaway folder in the temp directory; nothing of value is left if it stays.
        }
    }

    // Prometheus cannot report a port it chose itself, so one is picked here (free a moment ago, on loopback only).
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("PROMETHEUS_PATH") is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : null;
        }

        return File.Exists("/usr/bin/prometheus") ? "/usr/bin/prometheus" : null;
    }
}

/// <summary>A test that needs <see cref="PrometheusServer"/>: skipped (visibly) on a developer machine without it, run — and so failed — in CI.</summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (!HeadlessChromium.IsContinuousIntegration && PrometheusServer.MissingReason is { } missing)
        {
            Skip = missing;
        }
    }
}
