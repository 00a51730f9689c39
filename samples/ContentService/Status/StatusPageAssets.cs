using System.Collections.Frozen;
using System.Reflection;

namespace ContentService.Status;

/// <summary>The page's HTML, script and style sheet, embedded in the assembly (no build step, no other origin).</summary>
internal static class StatusPageAssets
{
    private static readonly FrozenDictionary<string, byte[]> Files = Load();

    public static byte[] Get(string name) => Files[name];

    private static FrozenDictionary<string, byte[]> Load()
    {
        const string marker = ".Status.Page.";
        var assembly = Assembly.GetExecutingAssembly();
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            var at = resource.IndexOf(marker, StringComparison.Ordinal);
            if (at < 0)
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[resource[(at + marker.Length)..]] = copy.ToArray();
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
