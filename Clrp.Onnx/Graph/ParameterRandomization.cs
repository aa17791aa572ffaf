using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Graph;

/// <summary>A linear layer's parameters as the model file holds them: the node and its weight (and bias) initializers.</summary>
/// <param name="Node">The node name.</param>
/// <param name="OpType">Conv, ConvTranspose, Gemm or MatMul.</param>
/// <param name="Parameters">The initializer names of its weights and bias.</param>
public sealed record ParameterLayer(string Node, string OpType, IReadOnlyList<string> Parameters);

/// <summary>
/// The model-parameter randomisation test of Adebayo et al. (2018, "Sanity checks for saliency maps"): copies of a model
/// with some layers' weights and biases re-drawn at random. An explanation that is faithful to the model must change
/// when the parameters it explains are destroyed. Each parameter tensor is replaced by draws from <c>N(0, σ²)</c> with σ the
/// standard deviation of its own values, so scales stay comparable; the draws depend only on the seed and the tensor's
/// name, so a layer gets the same random values in every step of a cascade. BatchNormalization parameters are kept.
/// </summary>
public static class ParameterRandomization
{
    /// <summary>
    /// The linear layers on the explained path whose weights are initializers, from the input to the logits (file order),
    /// as <see cref="ClrpExplainer.Inspect"/> lists them.
    /// </summary>
    /// <exception cref="InvalidGraphException">The model cannot be read.</exception>
    public static IReadOnlyList<ParameterLayer> Layers(string modelPath, ExplainerOptions? options = null)
    {
        ModelReport report = ClrpExplainer.Inspect(modelPath, options);
        ModelProto model = Read(modelPath);
        var initializers = model.Graph.Initializer.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        // The report shows canonized nodes: a Conv with a BatchNorm folded in reads new weights. The file's own node (by
        // name) says which initializers the layer has.
        var fileInputs = model.Graph.Node.Where(n => n.Name.Length > 0).GroupBy(n => n.Name, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.First().Input], StringComparer.Ordinal);
        IReadOnlyList<string> InputsOf(Planning.NodeReport n) => fileInputs.GetValueOrDefault(n.Node.Name) ?? n.Node.Inputs;
        return [.. report.Nodes
            .Where(n => n.Role.StartsWith("rule ", StringComparison.Ordinal) && InputsOf(n) is [_, var weight, ..] && initializers.Contains(weight))
            .Select(n => new ParameterLayer(n.Node.Name, n.Node.OpType, [.. InputsOf(n).Skip(1).Where(initializers.Contains)]))];
    }

    /// <summary>The model with every initializer named in <paramref name="parameters"/> re-drawn from N(0, σ²), as ONNX bytes.</summary>
    /// <exception cref="InvalidInputException">A named initializer is missing or not float32.</exception>
    public static byte[] Randomize(string modelPath, IEnumerable<string> parameters, int seed)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ModelProto model = Read(modelPath);
        var byName = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (string name in parameters)
        {
            if (!byName.TryGetValue(name, out TensorProto? tensor))
            {
                throw new InvalidInputException($"'{modelPath}' has no initializer '{name}' to randomise.");
            }

            float[] values = TensorProtoDecoder.Decode(tensor, modelPath)?.Floats
                ?? throw new InvalidInputException($"initializer '{name}' of '{modelPath}' is not float32; only float weights can be randomised.");
            float[] drawn = Draw(values, seed, name);
            var bytes = new byte[drawn.Length * sizeof(float)];
            Buffer.BlockCopy(drawn, 0, bytes, 0, bytes.Length); // raw_data is little-endian, as every supported platform
            tensor.FloatData.Clear();
            tensor.RawData = ByteString.CopyFrom(bytes);
        }

        return model.ToByteArray();
    }

    /// <summary>N(0, σ²) draws for one tensor, σ its values' standard deviation (0 stays 0), seeded by seed and name (FNV-1a).</summary>
    internal static float[] Draw(float[] values, int seed, string name)
    {
        double mean = values.Average(v => (double)v);
        double sigma = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / Math.Max(1, values.Length));
        uint hash = 2166136261;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 16777619;
        }

        var random = new Random(unchecked((int)hash) ^ seed);
        var drawn = new float[values.Length];
        for (int i = 0; i < drawn.Length; i++)
        {
            // Box–Muller: one standard normal from two uniforms on (0, 1].
            double u = 1.0 - random.NextDouble(), v = random.NextDouble();
            drawn[i] = (float)(sigma * Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v));
        }

        return drawn;
    }

    private static ModelProto Read(string modelPath)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(modelPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidProtocolBufferException)
        {
            throw new InvalidGraphException($"cannot read the ONNX model '{modelPath}': {e.Message}");
        }
    }
}
