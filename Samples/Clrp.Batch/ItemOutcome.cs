namespace Clrp.Batch;

/// <summary>What became of one manifest entry in a run.</summary>
/// <param name="Entry">The input.</param>
/// <param name="Sha256">Its content hash, or null when it could not be read.</param>
/// <param name="Record">The finished item, or null for an error.</param>
/// <param name="Error">The reason it failed (one line), or null.</param>
/// <param name="Reused">True when the item was already finished (a rerun, or a duplicate of another input) and not recomputed.</param>
public sealed record ItemOutcome(ManifestEntry Entry, string? Sha256, ItemRecord? Record, string? Error, bool Reused)
{
    /// <summary>
    /// A failed input. The machine's absolute path in the message is replaced by the input's name as listed, so that the
    /// same failure reads the same on every machine (and results.csv stays byte-identical between a cluster and one machine).
    /// </summary>
    public static ItemOutcome Failed(ManifestEntry entry, string? sha256, string error) =>
        new(entry, sha256, null, OneLine(error.Replace(entry.FullPath, entry.Name, StringComparison.Ordinal)), false);

    /// <summary>Folds line breaks so that the status stays one CSV cell on one line.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
