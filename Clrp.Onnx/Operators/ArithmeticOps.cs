using Clrp.Onnx.Algebra;
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

        registry.Register("Sum", 8, 22, (n, g) => n.Inputs.Count == 1 ? new ElementwisePassPropagator(n, null) : new SumPropagator(n, g));
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
                    "Div of two activations (a ratio of computed values) has no LRP convention yet; division by a constant and by the activation's own L2 norm (x / ReduceL2(x), x / Sqrt(ReduceSum(x·x)), with eps guards) are supported"),
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

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue x = alg.Activation(_node.Input(_x));
        int[] xRow = x.RowShape;
        int rank = xRow.Length + 1;
        int[] cRow = _constant is null ? [] : Broadcasting.ConstantRowShape(_node, _constant.Shape, rank);
        int[] outRow = _constant is null ? alg.Activation(_node.Outputs[0]).RowShape : Broadcasting.Shape(_node, xRow, cRow);
        if (outRow.Length != xRow.Length)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"the output {Tensor.FormatShape(outRow)} per image has another rank than the activation {Tensor.FormatShape(xRow)}");
        }

        RelValue r = alg.Reshape(outputRelevance[0]!, outRow);
        if (plan.Mode == PropagationMode.Gradient && !(_node.OpType == "Add" || (_node.OpType == "Sub" && _x == 0)))
        {
            r = alg.Binary(BinaryOp.Multiply, r, Derivative(alg, x, cRow));
        }

        var result = new RelValue?[_node.Inputs.Count];
        result[_x] = alg.SumTo(r, xRow);
        return result;
    }

    /// <summary>∂y/∂x: −1 (c − x), c (x·c), 1/c (x/c), −c/x² (c/x).</summary>
    private RelValue Derivative(IRelevanceAlgebra alg, RelValue x, int[] cRow)
    {
        RelValue c = alg.Constant(_constant?.AsFloats() ?? [0f], _constant is null ? [] : cRow);
        return (_node.OpType, _x) switch
        {
            ("Sub", _) => ActivationOps.Scalar(alg, -1f),
            ("Mul", _) => c,
            ("Div", 0) => alg.Unary(UnaryOp.Reciprocal, c),
            _ => alg.Unary(UnaryOp.Negate, alg.Binary(BinaryOp.Divide, c, alg.Binary(BinaryOp.Multiply, x, x))),
        };
    }
}
