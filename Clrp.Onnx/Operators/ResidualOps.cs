using Clrp.Onnx.Graph;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Add or Sub of two activations a ± b (residual connections), broadcast-aware. Relevance ("Norm", stabiliser 1e-6):
/// <c>R_a = Σ_j a·R_j / stab(a ± b)</c> and <c>R_b = Σ_j (±b)·R_j / stab(a ± b)</c>, summed over the output elements j each
/// operand element reaches (broadcast axes); so R_a + R_b = R up to the stabiliser. Gradient: <c>g_a = Σ g</c>,
/// <c>g_b = ±Σ g</c>.
/// </summary>
internal sealed class NormSumPropagator(Node node) : IOperatorPropagator
{
    private const float NormStabilizer = 1e-6f;

    public IEnumerable<string> RequiredValues => [node.Input(0), node.Input(1)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor a = context.Activation(node.Input(0)), b = context.Activation(node.Input(1));
        if (a.Rank != b.Rank)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"operands {a.ShapeText} and {b.ShapeText} have different ranks, so the batch axes would not align");
        }

        int[] aRow = a.Shape[1..], bRow = b.Shape[1..];
        int[] outRow = Broadcasting.Shape(node, aRow, bRow);
        int[] aMap = Broadcasting.IndexMap(aRow, outRow), bMap = Broadcasting.IndexMap(bRow, outRow);
        int rows = context.Rows, outLength = aMap.Length;
        Tensor r = outputRelevance[0]!.Reshape([rows, .. outRow]);
        float sign = node.OpType == "Sub" ? -1f : 1f;
        if (context.Mode == PropagationMode.Gradient)
        {
            Tensor gb = Broadcasting.SumTo(r, rows, bRow, bMap);
            if (sign < 0)
            {
                System.Numerics.Tensors.TensorPrimitives.Negate(gb.Data, gb.Data);
            }

            return [Broadcasting.SumTo(r, rows, aRow, aMap), gb];
        }

        var ra = context.NewTensor([rows, .. aRow]);
        var rb = context.NewTensor([rows, .. bRow]);
        int aLength = ra.RowLength, bLength = rb.RowLength;
        for (int row = 0; row < rows; row++)
        {
            int image = context.RowImage[row];
            ReadOnlySpan<float> av = a.Data.AsSpan(image * aLength, aLength), bv = b.Data.AsSpan(image * bLength, bLength);
            ReadOnlySpan<float> rv = r.Data.AsSpan(row * outLength, outLength);
            Span<float> raRow = ra.Data.AsSpan(row * aLength, aLength), rbRow = rb.Data.AsSpan(row * bLength, bLength);
            for (int j = 0; j < outLength; j++)
            {
                if (rv[j] == 0f)
                {
                    continue;
                }

                float x = av[aMap[j]], y = sign * bv[bMap[j]];
                float s = rv[j] / LinearRuleEngine.Stabilize(x + y, NormStabilizer);
                raRow[aMap[j]] += x * s;
                rbRow[bMap[j]] += y * s;
            }
        }

        return [ra, rb];
    }
}
