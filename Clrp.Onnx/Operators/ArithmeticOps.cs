using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Add, Sub, Mul, Div (opsets 7–22, NumPy broadcasting). With one activation operand the node is an affine map
/// baked into the graph (<c>(x − mean)/std</c>, per-channel scale and shift) and passes relevance; with two:
/// Add/Sub share in proportion (<see cref="NormSumPropagator"/>), Mul is a gate (<see cref="GatingMulPropagator"/>),
/// Div is not supported.
/// </summary>
internal static class ArithmeticOps
{
    public static void Register(OperatorRegistry registry)
    {
        foreach (string op in new[] { "Add", "Sub", "Mul", "Div" })
        {
            // Opsets 1–6 broadcast only with the legacy `broadcast`/`axis` attributes: not verified.
            registry.Register(op, 7, 22, Create);
        }
    }

    private static IOperatorPropagator Create(Node node, OnnxGraph graph)
    {
        bool first = DataFlow.IsActivation(graph, node.Input(0)), second = DataFlow.IsActivation(graph, node.Input(1));
        if (first && second)
        {
            return node.OpType switch
            {
                "Add" or "Sub" => new NormSumPropagator(node),
                "Mul" => GatingMulPropagator.Create(node, graph),
                _ => throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset,
                    "Div of two activations (a ratio of computed values) has no LRP convention yet; only division by a constant is supported"),
            };
        }

        return new ConstantOperandPropagator(node, graph, first ? 0 : 1);
    }
}

/// <summary>
/// Add/Sub/Mul/Div of an activation x and a non-activation c (constant, or computed from shapes).
/// Relevance: passes element by element, <c>R_x = Σ_broadcast R</c> (DESIGN: preprocessing baked into the graph
/// carries no relevance of its own). Gradient: <c>g_x = Σ_broadcast ∂y/∂x · g</c> with ∂y/∂x = 1 (x + c, x − c), −1 (c − x),
/// c (x·c), 1/c (x/c), −c/x² (c/x).
/// </summary>
internal sealed class ConstantOperandPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly int _x;
    private readonly ConstantTensor? _constant;

    public ConstantOperandPropagator(Node node, OnnxGraph graph, int activationIndex)
    {
        _node = node;
        _x = activationIndex;
        string other = node.Input(1 - activationIndex);
        _constant = graph.Constants.GetValueOrDefault(other);
        if (_constant is null && node.OpType is "Mul" or "Div")
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset,
                $"its operand '{other}' is computed at run time from shapes; {node.OpType} by such a value is not supported (a constant is)");
        }
    }

    /// <summary>The output is read only for its shape, when the other operand's shape is not known at load.</summary>
    public IEnumerable<string> RequiredValues => _constant is null ? [_node.Input(_x), _node.Outputs[0]] : [_node.Input(_x)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor x = context.Activation(_node.Input(_x));
        int[] xRow = x.Shape[1..];
        int[] cRow = _constant is null ? [] : Broadcasting.ConstantRowShape(_node, _constant.Shape, x.Rank);
        int[] outRow = _constant is null ? context.Activation(_node.Outputs[0]).Shape[1..] : Broadcasting.Shape(_node, xRow, cRow);
        if (outRow.Length != xRow.Length)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"the output {Tensor.FormatShape(outRow)} per image has another rank than the activation {Tensor.FormatShape(xRow)}");
        }

        int rows = context.Rows;
        Tensor r = outputRelevance[0]!.Reshape([rows, .. outRow]);
        var result = new Tensor?[_node.Inputs.Count];
        if (context.Mode == PropagationMode.Gradient && !(_node.OpType == "Add" || (_node.OpType == "Sub" && _x == 0)))
        {
            r = ScaleByDerivative(r, x, cRow, outRow, context);
        }

        result[_x] = Broadcasting.IsIdentity(xRow, outRow) ? r.Reshape([rows, .. xRow]) : Broadcasting.SumTo(r, rows, xRow, Broadcasting.IndexMap(xRow, outRow));
        return result;
    }

    /// <summary><c>g ⊙ ∂y/∂x</c> over the output shape.</summary>
    private Tensor ScaleByDerivative(Tensor g, Tensor x, int[] cRow, int[] outRow, PropagationContext context)
    {
        int[] cMap = Broadcasting.IndexMap(cRow, outRow);
        int[] xMap = Broadcasting.IndexMap(x.Shape[1..], outRow);
        float[] c = _constant?.AsFloats() ?? [];
        int outLength = cMap.Length, xLength = x.RowLength;
        var scaled = context.NewTensor(g.Shape);
        for (int row = 0; row < context.Rows; row++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(context.RowImage[row] * xLength, xLength);
            for (int j = 0; j < outLength; j++)
            {
                float derivative = (_node.OpType, _x) switch
                {
                    ("Sub", _) => -1f,
                    ("Mul", _) => c[cMap[j]],
                    ("Div", 0) => 1f / c[cMap[j]],
                    _ => -c[cMap[j]] / (xs[xMap[j]] * xs[xMap[j]]),
                };
                scaled.Data[(row * outLength) + j] = g.Data[(row * outLength) + j] * derivative;
            }
        }

        return scaled;
    }
}
