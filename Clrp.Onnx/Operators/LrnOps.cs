using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Operators;

/// <summary>LRN (local response normalisation across channels, AlexNet/GoogLeNet): opsets 1–22.</summary>
internal static class LrnOps
{
    public static void Register(OperatorRegistry registry) => registry.Register("LRN", 1, 22, (n, _) => new LrnPropagator(n));
}

/// <summary>
/// LRN <c>y_c = x_c·d_c^(−β)</c>, <c>d_c = bias + α/size·Σ_{i∈N(c)} x_i²</c>, N(c) = channels
/// [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]. Relevance passes unchanged (DESIGN §1: a normalisation read as an activation).
/// Gradient: <c>g_x_i = g_i·d_i^(−β) − (2αβ/size)·x_i·Σ_{c: i∈N(c)} g_c·x_c·d_c^(−β−1)</c>, where both window sums are the
/// channel window as a <see cref="SparseKernel"/> (forward: Σ over N(c); adjoint: Σ over the c whose window holds i).
/// </summary>
internal sealed class LrnPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly float _alpha;
    private readonly float _beta;
    private readonly float _bias;
    private readonly int _size;
    private readonly ConcurrentDictionary<string, SparseKernel> _windows = new(StringComparer.Ordinal);

    public LrnPropagator(Node node)
    {
        _node = node;
        _alpha = node.Attributes.GetFloat("alpha", 1e-4f);
        _beta = node.Attributes.GetFloat("beta", 0.75f);
        _bias = node.Attributes.GetFloat("bias", 1f);
        _size = (int)node.Attributes.GetInt("size", 0);
        if (_size <= 0)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "the required attribute 'size' is missing or not positive");
        }
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(0));
        RelValue g = alg.Reshape(outputRelevance[0]!, x.RowShape);
        if (plan.Mode == PropagationMode.Relevance)
        {
            return [g];
        }

        SparseKernel window = _windows.GetOrAdd(x.ShapeText, _ => ChannelWindow(x.RowShape));
        RelValue S(float v) => alg.Constant([v], []);
        RelValue d = alg.Binary(BinaryOp.Add, S(_bias), alg.Binary(BinaryOp.Multiply, S(_alpha / _size), alg.Forward(window, alg.Binary(BinaryOp.Multiply, x, x), null)));
        RelValue direct = alg.Binary(BinaryOp.Multiply, g, alg.Binary(BinaryOp.Power, d, S(-_beta)));
        RelValue cross = alg.Adjoint(window, alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Multiply, g, x), alg.Binary(BinaryOp.Power, d, S(-_beta - 1f))), null);
        RelValue correction = alg.Binary(BinaryOp.Multiply, alg.Binary(BinaryOp.Multiply, S(2f * _alpha * _beta / _size), x), cross);
        return [alg.Binary(BinaryOp.Subtract, direct, correction)];
    }

    /// <summary>Output (c, p) reads channels N(c) at the same position p.</summary>
    private SparseKernel ChannelWindow(int[] row)
    {
        int channels = row[0], inner = row.Length == 1 ? 1 : row[1..].Aggregate(1, (a, b) => a * b);
        int below = (_size - 1) / 2;
        var index = new int[channels * inner * _size];
        for (int c = 0; c < channels; c++)
        {
            for (int p = 0; p < inner; p++)
            {
                for (int t = 0; t < _size; t++)
                {
                    int source = c - below + t;
                    index[(((c * inner) + p) * _size) + t] = source >= 0 && source < channels ? (source * inner) + p : -1;
                }
            }
        }

        return new SparseKernel(row, row, 1, _size, index, null);
    }
}
