using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Resilience.Chaos.Reporting;

/// <summary>
/// A markdown table of a scenario's figures (ours and the baseline side by side), printed to the test output — visible
/// with <c>--logger "console;verbosity=normal"</c> — and, when <c>RESILIENCE_CHAOS_REPORT</c> names a directory, appended
/// to <c>figures.md</c> there so scripts/reliability.sh can collect every table of one run.
/// </summary>
internal sealed class FigureTable
{
    public const string ReportVariable = "RESILIENCE_CHAOS_REPORT";

    private static readonly Lock FileLock = new();

    private readonly string _title;
    private readonly string[] _columns;
    private readonly List<string[]> _rows = [];
    private readonly List<string> _notes = [];

    public FigureTable(string title, params string[] columns)
    {
        _title = title;
        _columns = columns;
    }

    public FigureTable Row(params object?[] cells)
    {
        if (cells.Length != _columns.Length)
        {
            throw new ArgumentException($"{_title}: {cells.Length} cells for {_columns.Length} columns.", nameof(cells));
        }

        _rows.Add(Array.ConvertAll(cells, Format));
        return this;
    }

    public FigureTable Note(string note)
    {
        _notes.Add(note);
        return this;
    }

    public void Print(ITestOutputHelper output)
    {
        var text = ToMarkdown();

        // Line by line: the live console output escapes line breaks inside one message.
        foreach (var line in text.Split('\n'))
        {
            output.WriteLine(line);
        }

        if (Environment.GetEnvironmentVariable(ReportVariable) is { Length: > 0 } directory)
        {
            lock (FileLock)
            {
                Directory.CreateDirectory(directory);
                File.AppendAllText(Path.Combine(directory, "figures.md"), text + "\n");
            }
        }
    }

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"#### {_title} ({ChaosRun.Label} run, {Environment.ProcessorCount} cores)\n\n");
        text.Append("| ").AppendJoin(" | ", _columns).Append(" |\n");
        text.Append('|').Append(string.Concat(Enumerable.Repeat("---|", _columns.Length))).Append('\n');
        foreach (var row in _rows)
        {
            text.Append("| ").AppendJoin(" | ", row).Append(" |\n");
        }

        foreach (var note in _notes)
        {
            text.Append('\n').Append(note).Append('\n');
        }

        return text.ToString();
    }

    private static string Format(object? cell) => cell switch
    {
        null => "–",
        TimeSpan t => Milliseconds(t),
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => cell.ToString() ?? string.Empty,
    };

    /// <summary>A duration as people read it in these tables: µs below a millisecond, ms below ten seconds, else s.</summary>
    public static string Milliseconds(TimeSpan t) => t.TotalMilliseconds switch
    {
        0 => "0 ms",
        < 1 => (t.TotalMicroseconds).ToString("0.0", CultureInfo.InvariantCulture) + " µs",
        < 10_000 => t.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + " ms",
        _ => t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
    };
}
