using System.Globalization;
using Clrp.Onnx;

namespace Clrp.Batch;

/// <summary>One input of a job.</summary>
/// <param name="Index">Position in the manifest (the row of results.csv).</param>
/// <param name="Name">The input as listed: a path relative to the folder for a folder, the entry as written for a list or CSV.</param>
/// <param name="FullPath">Where it is read from.</param>
/// <param name="TargetClass">The class to explain for this input (a manifest's <c>target</c> column), or null.</param>
public sealed record ManifestEntry(int Index, string Name, string FullPath, int? TargetClass)
{
    /// <summary>Picture or .npy, by the file's extension.</summary>
    public InputKind Kind => string.Equals(Path.GetExtension(FullPath), ".npy", StringComparison.OrdinalIgnoreCase) ? InputKind.Npy : InputKind.Picture;
}

/// <summary>
/// The ordered inputs of a job, from <c>--inputs</c>:
/// <list type="bullet">
/// <item>a folder: every picture (.png .jpg .jpeg .bmp .gif .webp) and .npy below it, sorted by relative path (ordinal),
///   hidden files and folders (starting with '.') and the job's own output folder left out;</item>
/// <item>a <c>.csv</c> file: a header with a <c>path</c> column and optionally a <c>target</c> column (a class index per input);</item>
/// <item>any other file: one path per line, blank lines and lines starting with '#' ignored.</item>
/// </list>
/// Relative entries of a list or CSV are read relative to that file's folder. The same manifest resolves to the same
/// order on every machine, which is what lets a cluster split it into shards and a rerun find its rows.
/// </summary>
public sealed class InputManifest
{
    private static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".npy"];

    private InputManifest(string source, IReadOnlyList<ManifestEntry> entries)
    {
        Source = source;
        Entries = entries;
    }

    /// <summary>What the entries came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The inputs in order.</summary>
    public IReadOnlyList<ManifestEntry> Entries { get; }

    /// <summary>Resolves <paramref name="inputs"/> (a folder, a list or a CSV manifest).</summary>
    /// <param name="inputs">--inputs.</param>
    /// <param name="excludeFolder">A folder to leave out of a folder scan (the output folder), or null.</param>
    /// <exception cref="InvalidOptionsException">Missing, unreadable or malformed manifest, or no inputs (names the file and line).</exception>
    public static InputManifest Resolve(string inputs, string? excludeFolder = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(inputs);
        List<ManifestEntry> entries;
        string source;
        try
        {
            if (Directory.Exists(inputs))
            {
                entries = ScanFolder(inputs, excludeFolder);
                source = $"folder '{inputs}'";
            }
            else if (File.Exists(inputs))
            {
                bool csv = string.Equals(Path.GetExtension(inputs), ".csv", StringComparison.OrdinalIgnoreCase);
                string text = File.ReadAllText(inputs);
                string root = Path.GetDirectoryName(Path.GetFullPath(inputs))!;
                entries = csv ? ReadCsv(inputs, text, root) : ReadList(text, root);
                source = csv ? $"manifest '{inputs}'" : $"list '{inputs}'";
            }
            else
            {
                throw new InvalidOptionsException($"--inputs '{inputs}' does not exist; give a folder, a list of paths (one per line) or a CSV manifest with a 'path' column.");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOptionsException($"cannot read --inputs '{inputs}': {e.Message}");
        }

        if (entries.Count == 0)
        {
            throw new InvalidOptionsException($"--inputs {(Directory.Exists(inputs) ? "folder" : "file")} '{inputs}' holds no inputs (pictures {string.Join(' ', Extensions[..^1])} or .npy).");
        }

        return new InputManifest(source, entries);
    }

    /// <summary>Builds a manifest from entries already resolved (a cluster shard, a test).</summary>
    public static InputManifest FromEntries(string source, IReadOnlyList<ManifestEntry> entries) => new(source, entries);

    private static List<ManifestEntry> ScanFolder(string folder, string? excludeFolder)
    {
        string root = Path.GetFullPath(folder);
        string? exclude = excludeFolder is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(excludeFolder));
        var names = new List<string>();
        var pending = new Stack<string>([root]);
        while (pending.Count > 0)
        {
            string current = pending.Pop();
            foreach (string sub in Directory.EnumerateDirectories(current))
            {
                if (!Path.GetFileName(sub).StartsWith('.') && !string.Equals(Path.TrimEndingDirectorySeparator(sub), exclude, StringComparison.Ordinal))
                {
                    pending.Push(sub);
                }
            }

            foreach (string file in Directory.EnumerateFiles(current))
            {
                if (!Path.GetFileName(file).StartsWith('.') && Extensions.Contains(Path.GetExtension(file).ToLowerInvariant()))
                {
                    names.Add(Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/'));
                }
            }
        }

        names.Sort(StringComparer.Ordinal);
        return [.. names.Select((name, i) => new ManifestEntry(i, name, Path.Combine(root, name), null))];
    }

    private static List<ManifestEntry> ReadList(string text, string root)
    {
        var entries = new List<ManifestEntry>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                entries.Add(new ManifestEntry(entries.Count, line, Path.GetFullPath(line, root), null));
            }
        }

        return entries;
    }

    private static List<ManifestEntry> ReadCsv(string path, string text, string root)
    {
        List<string[]> records;
        try
        {
            records = CsvText.Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidOptionsException($"manifest '{path}': {e.Message}");
        }

        if (records.Count == 0)
        {
            return [];
        }

        string[] header = [.. records[0].Select(h => h.Trim().ToLowerInvariant())];
        int pathColumn = Array.IndexOf(header, "path"), targetColumn = Array.IndexOf(header, "target");
        if (pathColumn < 0)
        {
            throw new InvalidOptionsException($"manifest '{path}' has no 'path' column in its header ({string.Join(',', records[0])}); the first line must name the columns, e.g. path,target.");
        }

        var entries = new List<ManifestEntry>();
        for (int r = 1; r < records.Count; r++)
        {
            string[] row = records[r];
            if (row.Length != header.Length)
            {
                throw new InvalidOptionsException($"manifest '{path}' record {r + 1} has {row.Length} fields; the header has {header.Length}.");
            }

            string name = row[pathColumn].Trim();
            if (name.Length == 0)
            {
                throw new InvalidOptionsException($"manifest '{path}' record {r + 1} has an empty path.");
            }

            int? target = null;
            if (targetColumn >= 0 && row[targetColumn].Trim() is { Length: > 0 } t)
            {
                target = int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int k)
                    ? k
                    : throw new InvalidOptionsException($"manifest '{path}' record {r + 1}: target '{t}' is not a class index (an integer ≥ 0).");
            }

            entries.Add(new ManifestEntry(entries.Count, name, Path.GetFullPath(name, root), target));
        }

        return entries;
    }
}
