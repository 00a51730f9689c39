using System.Text.RegularExpressions;

namespace Resilience.Core.Tests.Pipeline;

/// <summary>The order is written once, in <c>LayerKinds.cs</c>; the READMEs that show it to users are checked against it.</summary>
public sealed partial class LayerOrderDocsTests
{
    [Theory]
    [InlineData("README.md")]
    [InlineData("src/Resilience.Core/README.md")]
    public void Readme_OrderLine_IsTheOrderOfTheKindsTable(string path)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Resilience.sln")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        // The first "fallback → … → operation" run of the file, across line breaks and comment markers.
        var text = Regex.Replace(File.ReadAllText(Path.Combine(root, path)), @"\s*\n\s*(//\s*)?", " ");
        var match = OrderLine().Match(text);
        Assert.True(match.Success, $"{path} shows no 'fallback → … → operation' order");
        var documented = match.Value.Split('→', StringSplitOptions.TrimEntries)
            .Select(static step => Regex.Replace(step, @"\s*\(.*?\)", string.Empty))
            .Where(static step => step != "operation");

        var kinds = LayerKinds.Names.Where(static n => !n.StartsWith("Custom", StringComparison.Ordinal))
            .Select(static n => Regex.Replace(n, "(?<=[a-z])(?=[A-Z])", " ").ToLowerInvariant());

        Assert.Equal(kinds, documented);
    }

    [GeneratedRegex(@"fallback →[^.:—]*?→ operation")]
    private static partial Regex OrderLine();
}
