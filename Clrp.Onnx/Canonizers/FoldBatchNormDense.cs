using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Folds <c>BatchNormalization(Gemm(x, B, C))</c> or <c>BatchNormalization(MatMul(x, B))</c> (BatchNorm1d after a Linear
/// layer) into one Gemm when the product feeds only the BatchNormalization. With the layer normalised to
/// <c>W = α·B'ᵀ</c> [out, in] and <c>b = β·C</c>, and <c>k = γ/√(var + ε)</c>: <c>W'[o] = W[o]·k_o</c>,
/// <c>b' = (b − mean)·k + β_bn</c>. The BatchNormalization's output name is kept, so the captured values stay valid.
/// MatMul is folded only where its input is known to be [N, in] (made by Flatten or Gemm, possibly through
/// Relu/Dropout/Identity, or a rank-2 graph input): on higher ranks the BatchNormalization's channel axis is not the
/// product's feature axis. Pure: returns a new graph.
/// </summary>
public static class FoldBatchNormDense
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var constants = new Dictionary<string, ConstantTensor>(StringComparer.Ordinal);
        var replaced = new Dictionary<string, Node>(StringComparer.Ordinal);
        var removed = new HashSet<string>(StringComparer.Ordinal);
        foreach (Node bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0))
        {
            if (graph.Producer(bn.Input(0)) is not Node linear || linear.Domain.Length != 0 || linear.OpType is not ("Gemm" or "MatMul")
                || graph.Consumers(linear.Outputs[0]).Count != 1 || outputs.Contains(linear.Outputs[0]) || replaced.ContainsKey(linear.Name)
                || bn.Attributes.GetInt("training_mode", 0) != 0 || bn.Outputs.Skip(1).Any(o => o.Length > 0)
                || (linear.OpType == "MatMul" && !IsMatrix(graph, linear.Input(0)))
                || Normalised(graph, linear) is not (float[] w, float[] bias, int outputsCount, int inputsCount))
            {
                continue;
            }

            float[]?[] p = Enumerable.Range(1, 4).Select(i => graph.Constants.TryGetValue(bn.Input(i), out ConstantTensor? c) ? c.AsFloats() : null).ToArray();
            if (p.Any(v => v is null || v.Length != outputsCount))
            {
                continue;
            }

            float[] scale = p[0]!, shift = p[1]!, mean = p[2]!, variance = p[3]!;
            float epsilon = bn.Attributes.GetFloat("epsilon", 1e-5f);
            var folded = new float[w.Length];
            var foldedBias = new float[outputsCount];
            for (int o = 0; o < outputsCount; o++)
            {
                double k = scale[o] / Math.Sqrt(variance[o] + (double)epsilon);
                for (int i = 0; i < inputsCount; i++)
                {
                    folded[(o * inputsCount) + i] = (float)(w[(o * inputsCount) + i] * k);
                }

                foldedBias[o] = (float)(((bias[o] - (double)mean[o]) * k) + shift[o]);
            }

            string wName = $"{linear.Name}::bn_folded_weight", bName = $"{linear.Name}::bn_folded_bias";
            constants[wName] = new ConstantTensor([outputsCount, inputsCount], folded);
            constants[bName] = new ConstantTensor([outputsCount], foldedBias);
            var transB = new NodeAttributes([new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 }]);
            replaced[linear.Name] = new Node(linear.Name, "Gemm", string.Empty, linear.Opset, [linear.Input(0), wName, bName], [bn.Outputs[0]], transB);
            removed.Add(bn.Name);
        }

        if (replaced.Count == 0)
        {
            return graph;
        }

        var nodes = graph.Nodes.Where(n => !removed.Contains(n.Name)).Select(n => replaced.TryGetValue(n.Name, out Node? f) ? f : n).ToList();
        return graph.WithNodes(nodes, constants);
    }

    /// <summary>The layer as weights [out, in] = α·B'ᵀ and bias β·C (zeros without C), or null when it is not activation × constant.</summary>
    private static (float[] W, float[] Bias, int Outputs, int Inputs)? Normalised(OnnxGraph graph, Node linear)
    {
        bool gemm = linear.OpType == "Gemm";
        if (!graph.Constants.TryGetValue(linear.Input(1), out ConstantTensor? b) || b.Floats is null || b.Shape.Length != 2 || graph.IsConstant(linear.Input(0))
            || (gemm && linear.Attributes.GetInt("transA", 0) != 0))
        {
            return null;
        }

        bool transB = gemm && linear.Attributes.GetInt("transB", 0) != 0;
        float alpha = gemm ? linear.Attributes.GetFloat("alpha", 1f) : 1f, beta = gemm ? linear.Attributes.GetFloat("beta", 1f) : 1f;
        int outputs = transB ? b.Shape[0] : b.Shape[1], inputs = transB ? b.Shape[1] : b.Shape[0];
        var w = new float[outputs * inputs];
        for (int o = 0; o < outputs; o++)
        {
            for (int i = 0; i < inputs; i++)
            {
                w[(o * inputs) + i] = alpha * (transB ? b.Floats[(o * inputs) + i] : b.Floats[(i * outputs) + o]);
            }
        }

        var bias = new float[outputs];
        if (gemm && linear.Input(2).Length > 0)
        {
            if (!graph.Constants.TryGetValue(linear.Input(2), out ConstantTensor? c) || (c.Length != 1 && c.Length != outputs) || (c.Shape.Length == 2 && c.Shape[0] != 1))
            {
                return null;
            }

            float[] cv = c.AsFloats();
            for (int o = 0; o < outputs; o++)
            {
                bias[o] = beta * cv[cv.Length == 1 ? 0 : o];
            }
        }

        return (w, bias, outputs, inputs);
    }

    /// <summary>True when <paramref name="value"/> is known to be [N, features].</summary>
    private static bool IsMatrix(OnnxGraph graph, string value)
    {
        for (int step = 0; step < 16; step++)
        {
            if (graph.Producer(value) is not Node p)
            {
                return graph.Inputs.FirstOrDefault(i => i.Name == value)?.Dimensions is { Count: 2 };
            }

            if (p.OpType is "Flatten" or "Gemm")
            {
                return true;
            }

            if (p.OpType is not ("Relu" or "LeakyRelu" or "Dropout" or "Identity"))
            {
                return false;
            }

            value = p.Input(0);
        }

        return false;
    }
}
