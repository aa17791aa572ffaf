using System.Text;
using System.Text.Json;
using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>
/// Fills the graph-only ONNX files of <c>models/graphs/</c> (written by <c>scripts/models/export_torchvision_graphs.py</c>)
/// with deterministic random weights. Each file lists in its metadata (<c>clrp.fill</c>) the initializers whose data was
/// stripped: torch parameters by name and role, and Conv weights/biases into which torch folded a BatchNorm, with the
/// names of that Conv's and BatchNorm's parameters.
/// <para>
/// Every torch parameter is generated from its name alone (a <see cref="Random"/> seeded by the name's FNV-1a hash and
/// <see cref="Seed"/>), so a parameter has the same value in the <c>-bn</c> file and the <c>-folded</c> file, and a folded
/// initializer is computed (in float64) from exactly the parameters the unfused file uses: <c>W·k</c> and
/// <c>(b − mean)·k + β</c>, <c>k = γ/√(var + eps)</c>. Both files then compute the same function.
/// </para>
/// Distributions: weights He-uniform ±√(6/fan_in); biases U(−0.1, 0.1); BatchNorm scale γ U(0.5, 1.5), shift β U(−0.1, 0.1),
/// running mean U(−0.1, 0.1), running variance U(0.5, 1.5).
/// </summary>
internal static class GraphFiller
{
    public const int Seed = 20180101;

    /// <summary>The filled model as bytes.</summary>
    /// <param name="graphPath">A graph-only file.</param>
    /// <param name="zeroBiases">
    /// Sets every bias, BatchNorm shift β and running mean to 0 (folded biases become 0): a bias-free variant of the same
    /// network, on which the z⁺/z^B rules must conserve relevance exactly (no unit can be alive through its bias alone).
    /// </param>
    /// <param name="residualBranchScale">
    /// Multiplies the BatchNorm scale γ at the end of every residual branch (the BN whose output, possibly through its
    /// activation, is the non-identity input of a residual Add; in a folded file the BN folded into that Conv). With random
    /// weights and BN statistics that do not normalise, each residual block doubles the activations' variance; a deep
    /// residual stack (EfficientNetV2-S: 35 residual Adds) then reaches logits of ~2·10⁷, where float32 rounding alone makes
    /// two equal graphs differ by 3·10⁻⁵. A small branch scale (as SkipInit / zero-γ initialisation of trained residual nets)
    /// keeps the activations of order 1. 1 leaves the fill unchanged.
    /// </param>
    public static byte[] Fill(string graphPath, bool zeroBiases = false, double residualBranchScale = 1)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(graphPath));
        string json = model.MetadataProps.FirstOrDefault(p => p.Key == "clrp.fill")?.Value
            ?? throw new InvalidOperationException($"{graphPath}: no 'clrp.fill' metadata; not a graph-only file");
        var initializers = model.Graph.Initializer.ToDictionary(t => t.Name);
        using JsonDocument doc = JsonDocument.Parse(json);
        IReadOnlySet<string> branchEnds = residualBranchScale == 1 ? new HashSet<string>() : ResidualBranchEnds(model, doc.RootElement);
        double Gamma(string bn) => branchEnds.Contains(bn) ? residualBranchScale : 1;
        foreach (JsonElement entry in doc.RootElement.EnumerateArray())
        {
            string name = entry.GetProperty("name").GetString()!;
            TensorProto tensor = initializers[name];
            if (tensor.RawData.Length != 0 || tensor.FloatData.Count != 0)
            {
                throw new InvalidOperationException($"{graphPath}: initializer '{name}' listed in clrp.fill still holds data");
            }

            long[] dims = [.. tensor.Dims];
            int count = checked((int)dims.Aggregate(1L, (a, b) => a * b));
            string kind = entry.GetProperty("kind").GetString()!;
            float[] values = zeroBiases && IsShift(kind, entry) ? new float[count] : kind switch
            {
                "param" => Scaled(Parameter(entry.GetProperty("param").GetString()!, entry.GetProperty("role").GetString()!, count, FanIn(entry)), entry, Gamma),
                "folded_weight" => FoldedWeight(entry, dims, count, Gamma),
                "folded_bias" => FoldedBias(entry, count, Gamma),
                _ => throw new InvalidOperationException($"{graphPath}: unknown fill kind '{kind}' for '{name}'"),
            };
            var bytes = new byte[count * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            if (!BitConverter.IsLittleEndian)
            {
                throw new PlatformNotSupportedException("raw_data is little-endian");
            }

            tensor.RawData = ByteString.CopyFrom(bytes);
        }

        var graphOnly = model.MetadataProps.FirstOrDefault(p => p.Key == "clrp.graph_only");
        if (graphOnly is not null)
        {
            graphOnly.Value = $"0 (filled by GraphFiller, seed {Seed})";
        }

        return model.ToByteArray();
    }

    /// <summary>Fills <paramref name="graphPath"/> and writes the result to a fresh temporary file; returns its path.</summary>
    public static string FillToTemp(string graphPath, bool zeroBiases = false, double residualBranchScale = 1)
    {
        string path = Path.Combine(Support.TestPaths.TempDir(), Path.GetFileName(graphPath));
        File.WriteAllBytes(path, Fill(graphPath, zeroBiases, residualBranchScale));
        return path;
    }

    /// <summary>A BN scale parameter γ times its module's residual-branch factor; other parameters as they are.</summary>
    private static float[] Scaled(float[] values, JsonElement entry, Func<string, double> gamma)
    {
        string param = entry.GetProperty("param").GetString()!;
        if (entry.GetProperty("role").GetString() != "bn_scale" || gamma(param[..^".weight".Length]) is var f && f == 1)
        {
            return values;
        }

        return Array.ConvertAll(values, v => (float)(v * f));
    }

    /// <summary>
    /// BatchNorm module names at the end of residual branches: for each Add of two activations, the input that has the other
    /// as an ancestor is the branch; walking back from it over activations (Mul of x and Sigmoid(x), Relu, Sigmoid, Clip)
    /// reaches a BatchNormalization (its scale's module) or a Conv into which torch folded one (the clrp.fill entry's "bn").
    /// </summary>
    private static HashSet<string> ResidualBranchEnds(ModelProto model, JsonElement entries)
    {
        var producer = new Dictionary<string, NodeProto>(StringComparer.Ordinal);
        foreach (NodeProto n in model.Graph.Node)
        {
            foreach (string o in n.Output)
            {
                producer[o] = n;
            }
        }

        var foldedBn = entries.EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "folded_weight")
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("bn").GetString()!, StringComparer.Ordinal);
        var ends = new HashSet<string>(StringComparer.Ordinal);
        foreach (NodeProto add in model.Graph.Node.Where(n => n.OpType == "Add" && n.Input.Count == 2 && n.Input.All(producer.ContainsKey)))
        {
            string? branch = IsAncestor(add.Input[0], add.Input[1], producer) ? add.Input[1] : IsAncestor(add.Input[1], add.Input[0], producer) ? add.Input[0] : null;
            for (int step = 0; branch is not null && step < 4 && producer.TryGetValue(branch, out NodeProto? p); step++)
            {
                if (p.OpType == "BatchNormalization")
                {
                    ends.Add(p.Input[1][..^".weight".Length]);
                    break;
                }

                if (p.OpType == "Conv")
                {
                    if (foldedBn.TryGetValue(p.Input[1], out string? bn))
                    {
                        ends.Add(bn);
                    }

                    break;
                }

                branch = p.OpType is "Mul" or "Relu" or "Sigmoid" or "Clip" ? p.Input[0] : null;
            }
        }

        return ends;
    }

    /// <summary>Whether <paramref name="ancestor"/> is computed on the way to <paramref name="value"/>.</summary>
    private static bool IsAncestor(string ancestor, string value, Dictionary<string, NodeProto> producer)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([value]);
        while (stack.TryPop(out string? v))
        {
            if (v == ancestor)
            {
                return true;
            }

            if (seen.Add(v) && producer.TryGetValue(v, out NodeProto? p))
            {
                foreach (string i in p.Input)
                {
                    stack.Push(i);
                }
            }
        }

        return false;
    }

    private static bool IsShift(string kind, JsonElement entry) =>
        kind == "folded_bias" || (kind == "param" && entry.GetProperty("role").GetString() is "bias" or "bn_bias" or "bn_mean");

    /// <summary>The values of torch parameter <paramref name="param"/> (same name, same values, in every file).</summary>
    public static float[] Parameter(string param, string role, int count, int fanIn = 0)
    {
        var random = new Random(NameSeed(param));
        (double low, double high) = role switch
        {
            "weight" => (-Math.Sqrt(6.0 / fanIn), Math.Sqrt(6.0 / fanIn)),
            "bias" or "bn_bias" or "bn_mean" => (-0.1, 0.1),
            "bn_scale" or "bn_var" => (0.5, 1.5),
            _ => throw new InvalidOperationException($"unknown parameter role '{role}' of '{param}'"),
        };
        if (role == "weight" && fanIn <= 0)
        {
            throw new InvalidOperationException($"weight '{param}' needs fan_in");
        }

        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(low + ((high - low) * random.NextDouble()));
        }

        return values;
    }

    private static float[] FoldedWeight(JsonElement entry, long[] dims, int count, Func<string, double> gamma)
    {
        float[] w = Parameter(entry.GetProperty("param").GetString()!, "weight", count, FanIn(entry));
        double[] k = Scale(entry, checked((int)dims[0]), gamma);
        int perChannel = count / k.Length;
        var folded = new float[count];
        for (int i = 0; i < count; i++)
        {
            folded[i] = (float)(w[i] * k[i / perChannel]);
        }

        return folded;
    }

    private static float[] FoldedBias(JsonElement entry, int count, Func<string, double> gamma)
    {
        string bn = entry.GetProperty("bn").GetString()!;
        JsonElement param = entry.GetProperty("param");
        float[] bias = param.ValueKind == JsonValueKind.Null ? new float[count] : Parameter(param.GetString()!, "bias", count);
        float[] beta = Parameter(bn + ".bias", "bn_bias", count);
        float[] mean = Parameter(bn + ".running_mean", "bn_mean", count);
        double[] k = Scale(entry, count, gamma);
        var folded = new float[count];
        for (int c = 0; c < count; c++)
        {
            folded[c] = (float)((((double)bias[c] - mean[c]) * k[c]) + beta[c]);
        }

        return folded;
    }

    /// <summary>k = γ/√(var + eps) of the entry's BatchNorm, from the float32 parameters the unfused file holds.</summary>
    private static double[] Scale(JsonElement entry, int channels, Func<string, double> branchScale)
    {
        string bn = entry.GetProperty("bn").GetString()!;
        double eps = entry.GetProperty("eps").GetDouble();
        double f = branchScale(bn);
        float[] gamma = Array.ConvertAll(Parameter(bn + ".weight", "bn_scale", channels), v => f == 1 ? v : (float)(v * f));
        float[] variance = Parameter(bn + ".running_var", "bn_var", channels);
        // ORT computes in float32 with eps as a float attribute.
        return [.. Enumerable.Range(0, channels).Select(c => gamma[c] / Math.Sqrt(variance[c] + (double)(float)eps))];
    }

    private static int FanIn(JsonElement entry) => entry.TryGetProperty("fan_in", out JsonElement f) ? f.GetInt32() : 0;

    /// <summary>FNV-1a of the UTF-8 name, mixed with <see cref="Seed"/>; stable across runs and .NET versions.</summary>
    private static int NameSeed(string name)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(name))
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)((hash ^ Seed) & 0x7fffffff);
    }
}
