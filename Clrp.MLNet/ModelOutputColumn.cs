using Clrp.Onnx;
using Clrp.Onnx.Graph;

namespace Clrp.MLNet;

/// <summary>How the model output that <c>ApplyOnnxModel</c> would add is made from the logits the explainer computes.</summary>
internal enum ModelOutputKind
{
    /// <summary>The output is the logits.</summary>
    Logits,

    /// <summary>The output is Softmax(logits) over the classes.</summary>
    Softmax,

    /// <summary>The output is LogSoftmax(logits) over the classes.</summary>
    LogSoftmax,
}

/// <summary>
/// The column <c>ApplyOnnxModel</c> adds for the explained output — named after the ONNX output, shaped as ML.NET
/// shapes it (the declared dimensions, an open batch axis read as 1) — computed from the logits of the explainer's own
/// forward pass, so that an explaining step can stand in for <c>ApplyOnnxModel</c> and the model runs once per row.
/// Softmax/LogSoftmax are evaluated in float64 and rounded; they agree with ONNX Runtime's to about 1e-7.
/// </summary>
internal sealed record ModelOutputColumn(string Name, int[] Dims, ModelOutputKind Kind)
{
    /// <summary>The output column for <paramref name="modelPath"/>'s explained output.</summary>
    /// <exception cref="InvalidOptionsException">That output is not the logits nor a final Softmax/LogSoftmax of them.</exception>
    public static ModelOutputColumn Resolve(string modelPath, string logitsName, string? outputName, int classes)
    {
        OnnxGraph graph = OnnxModelReader.Read(modelPath);
        ValueInfo output = outputName is null ? graph.Outputs[0] : graph.Outputs.FirstOrDefault(o => o.Name == outputName)
            ?? throw new InvalidOptionsException($"model '{modelPath}' has no graph output '{outputName}'; its outputs are {string.Join(", ", graph.Outputs.Select(o => $"'{o.Name}'"))}.");
        ModelOutputKind kind;
        if (output.Name == logitsName)
        {
            kind = ModelOutputKind.Logits;
        }
        else if (graph.Producer(output.Name) is { OpType: "Softmax" or "LogSoftmax" } last && last.Input(0) == logitsName)
        {
            kind = last.OpType == "Softmax" ? ModelOutputKind.Softmax : ModelOutputKind.LogSoftmax;
        }
        else
        {
            throw new InvalidOptionsException($"model '{modelPath}': output '{output.Name}' is neither the explained logits '{logitsName}' nor a Softmax/LogSoftmax of them, so the explainer cannot stand in for ApplyOnnxModel; add ApplyOnnxModel for it and explain with ExplainClrp or AppendExplain(ml, modelPath).");
        }

        return new ModelOutputColumn(output.Name, MlNetDimensions(output.Dimensions, classes), kind);
    }

    /// <summary>K values per row.</summary>
    public int Length => Dims.Aggregate(1, (a, d) => a * d);

    /// <summary>Writes the output for one row of logits.</summary>
    public void Compute(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (Kind == ModelOutputKind.Logits)
        {
            logits.CopyTo(destination);
            return;
        }

        double max = double.NegativeInfinity;
        foreach (float z in logits)
        {
            max = Math.Max(max, z);
        }

        double sum = 0;
        foreach (float z in logits)
        {
            sum += Math.Exp(z - max);
        }

        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = Kind == ModelOutputKind.Softmax ? (float)(Math.Exp(logits[i] - max) / sum) : (float)(logits[i] - max - Math.Log(sum));
        }
    }

    /// <summary>
    /// ML.NET's <c>OnnxTransformer.AdjustDimensions</c>: an open first axis becomes 1 and other open axes 0; where that
    /// leaves no fixed shape of K values (open class axis, unknown rank) the column is a vector of K.
    /// </summary>
    private static int[] MlNetDimensions(IReadOnlyList<long?>? declared, int classes)
    {
        if (declared is null || declared.Count == 0)
        {
            return [classes];
        }

        int[] dims = declared.Select((d, i) => d is > 0 ? checked((int)d.Value) : i == 0 ? 1 : 0).ToArray();
        return dims.Aggregate(1L, (a, d) => a * d) == classes ? dims : [classes];
    }
}
