using System.Text.Json;
using System.Text.Json.Serialization;

namespace Clrp.Batch;

/// <summary>ΣR of one walked seed (the library's <c>SeedDiagnostics</c> of one image).</summary>
/// <param name="Class">The explained class.</param>
/// <param name="Seed">"target" or "dual".</param>
/// <param name="SeedSum">Σ of the seed at the logits.</param>
/// <param name="InputSum">Σ of the relevance that reached the input.</param>
public sealed record SeedSums(int Class, string Seed, double SeedSum, double InputSum);

/// <summary>One output file of an input, with what it must hold.</summary>
/// <param name="Name">File name inside the input's item folder.</param>
/// <param name="Bytes">Its length.</param>
/// <param name="Sha256">Its SHA-256.</param>
public sealed record OutputFile(string Name, long Bytes, string Sha256);

/// <summary>
/// What was computed for one input content: written as <c>record.json</c> into the input's item folder after all its
/// files, so its presence marks the item finished; the file list with sizes and hashes lets a rerun tell a finished
/// item from a torn one (a file missing, cut short or replaced).
/// </summary>
/// <param name="Sha256">SHA-256 of the input file.</param>
/// <param name="Predicted">The class with the highest logit (the first of ties).</param>
/// <param name="Logits">The model's logits for this input.</param>
/// <param name="Classes">The explained classes, in output order.</param>
/// <param name="Seeds">ΣR of every walked seed.</param>
/// <param name="Files">The relevance maps (.npy, [C,H,W] per class) and heatmaps (.png).</param>
public sealed record ItemRecord(string Sha256, int Predicted, float[] Logits, int[] Classes, SeedSums[] Seeds, OutputFile[] Files)
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>The record as one line of JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json) + "\n";

    /// <summary>Reads <see cref="ToJson"/>'s text; null when it is not a record (a torn or foreign file).</summary>
    public static ItemRecord? TryParse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<ItemRecord>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
