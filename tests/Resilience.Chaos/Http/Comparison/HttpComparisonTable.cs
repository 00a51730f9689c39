using System.Text;

namespace Resilience.Http.Testing;

/// <summary>A Markdown table: one row per measurement, one column per contender.</summary>
public sealed class HttpComparisonTable(IReadOnlyList<string> contenders)
{
    private readonly List<(string Measurement, string[] Cells)> _rows = [];

    public void Add(string measurement, params string[] cells)
    {
        if (cells.Length != contenders.Count)
        {
            throw new ArgumentException($"Expected {contenders.Count} cells, got {cells.Length}.", nameof(cells));
        }

        _rows.Add((measurement, cells));
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append("| measurement | ").AppendJoin(" | ", contenders).AppendLine(" |");
        text.Append("|---|").Append(string.Concat(Enumerable.Repeat("---|", contenders.Count))).AppendLine();
        foreach (var (measurement, cells) in _rows)
        {
            text.Append("| ").Append(measurement).Append(" | ").AppendJoin(" | ", cells).AppendLine(" |");
        }

        return text.ToString();
    }
}
