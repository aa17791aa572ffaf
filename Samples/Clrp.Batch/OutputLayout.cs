namespace Clrp.Batch;

/// <summary>
/// The output folder of a job, content-addressed so that any machine that explains an input writes the same files to
/// the same place:
/// <code>
/// DIR/job.json                              the job's identity (settings and model SHA-256); another job is refused
/// DIR/results.csv                           one row per input, in manifest order
/// DIR/items/ab/abcd…(64 hex)/record.json    what was computed for the input whose content has that SHA-256 (written last)
/// DIR/items/ab/abcd…/relevance-c9.npy       the method's map for class 9, float32 [C,H,W]
/// DIR/items/ab/abcd…/heatmap-c9.png         its heatmap
/// </code>
/// Two inputs with the same bytes share one item folder.
/// </summary>
public sealed class OutputLayout
{
    /// <summary>Uses <paramref name="root"/> (created on demand by the writers).</summary>
    public OutputLayout(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string JobPath => Path.Combine(Root, "job.json");

    public string ResultsPath => Path.Combine(Root, "results.csv");

    /// <summary>The item folder of content <paramref name="sha256"/>, relative to <see cref="Root"/>, with '/' separators.</summary>
    public static string RelativeItemFolder(string sha256) => $"items/{sha256[..2]}/{sha256}";

    /// <summary>The item folder of content <paramref name="sha256"/>.</summary>
    public string ItemFolder(string sha256) => Path.Combine(Root, "items", sha256[..2], sha256);

    /// <summary>The record of content <paramref name="sha256"/>.</summary>
    public string RecordPath(string sha256) => Path.Combine(ItemFolder(sha256), "record.json");

    /// <summary>
    /// The record of <paramref name="sha256"/> when the item is finished: the record parses, names this content, and
    /// every file it lists exists with its size and SHA-256. Null for a missing or torn item (which is then redone).
    /// </summary>
    public ItemRecord? TryReadFinished(string sha256)
    {
        string path = RecordPath(sha256);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            ItemRecord? record = ItemRecord.TryParse(File.ReadAllText(path));
            if (record is null || record.Sha256 != sha256 || record.Files is null)
            {
                return null;
            }

            string folder = ItemFolder(sha256);
            foreach (OutputFile file in record.Files)
            {
                var info = new FileInfo(Path.Combine(folder, file.Name));
                if (!info.Exists || info.Length != file.Bytes || ContentHash.OfFile(info.FullName) != file.Sha256)
                {
                    return null;
                }
            }

            return record;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Binds the folder to one job: writes <see cref="JobPath"/> when absent; refuses (<see cref="Onnx.InvalidOptionsException"/>)
    /// when it holds another job's identity.
    /// </summary>
    public void Claim(string identityJson)
    {
        try
        {
            Directory.CreateDirectory(Root);
            if (File.Exists(JobPath))
            {
                string existing = File.ReadAllText(JobPath);
                if (existing != identityJson)
                {
                    throw new Onnx.InvalidOptionsException($"output folder '{Root}' holds the results of another job (its job.json differs: other model, method, rules or preprocessing); choose another --out-dir or delete it.");
                }

                return;
            }

            AtomicText.Write(JobPath, identityJson);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Onnx.InvalidOptionsException($"cannot use output folder '{Root}': {e.Message}");
        }
    }
}
