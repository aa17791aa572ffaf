using System.Globalization;
using System.Text;

namespace Clrp.Batch;

/// <summary>
/// <c>results.csv</c>: one row per manifest entry, in manifest order, written atomically. Columns:
/// <list type="table">
/// <item><term>path</term><description>the input as listed</description></item>
/// <item><term>sha256</term><description>its content hash (the item folder's name)</description></item>
/// <item><term>status</term><description><c>ok</c>, or <c>error: …</c> saying why</description></item>
/// <item><term>predicted</term><description>the class with the highest logit</description></item>
/// <item><term>logits</term><description>all logits, ';'-separated</description></item>
/// <item><term>classes</term><description>the explained classes, ';'-separated</description></item>
/// <item><term>seeds, seed_sums, input_sums</term><description>per walked seed (<c>target:9</c>, <c>dual:9</c>): ΣR at the logits and ΣR at the input</description></item>
/// <item><term>relevance, heatmap</term><description>the output files, relative to the output folder, one per class</description></item>
/// </list>
/// Numbers are written in the invariant culture, floats in their shortest round-trip form, so that the same
/// explanations give the same bytes on every machine.
/// </summary>
public static class ResultsTable
{
    /// <summary>The header line's columns.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["path", "sha256", "status", "predicted", "logits", "classes", "seeds", "seed_sums", "input_sums", "relevance", "heatmap"];

    /// <summary>The whole file's text for <paramref name="outcomes"/> (in manifest order).</summary>
    public static string Format(IEnumerable<ItemOutcome> outcomes)
    {
        var text = new StringBuilder(CsvText.Line(Columns)).Append('\n');
        foreach (ItemOutcome outcome in outcomes)
        {
            text.Append(CsvText.Line(Row(outcome))).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Writes <paramref name="outcomes"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IEnumerable<ItemOutcome> outcomes) => AtomicText.Write(path, Format(outcomes));

    /// <summary>One row's fields.</summary>
    public static string[] Row(ItemOutcome outcome)
    {
        if (outcome.Record is not { } r)
        {
            return [outcome.Entry.Name, outcome.Sha256 ?? string.Empty, "error: " + outcome.Error, "", "", "", "", "", "", "", ""];
        }

        string folder = OutputLayout.RelativeItemFolder(r.Sha256);
        return
        [
            outcome.Entry.Name,
            r.Sha256,
            "ok",
            Invariant(r.Predicted),
            string.Join(';', r.Logits.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(';', r.Classes.Select(Invariant)),
            string.Join(';', r.Seeds.Select(s => $"{s.Seed}:{Invariant(s.Class)}")),
            string.Join(';', r.Seeds.Select(s => s.SeedSum.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(';', r.Seeds.Select(s => s.InputSum.ToString("R", CultureInfo.InvariantCulture))),
            string.Join(';', r.Files.Where(f => f.Name.EndsWith(".npy", StringComparison.Ordinal)).Select(f => $"{folder}/{f.Name}")),
            string.Join(';', r.Files.Where(f => f.Name.EndsWith(".png", StringComparison.Ordinal)).Select(f => $"{folder}/{f.Name}")),
        ];
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
