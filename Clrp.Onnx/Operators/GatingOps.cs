using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Mul of two activations read as a gate (squeeze-excitation <c>x·σ(FC(GAP(x)))</c>, SiLU <c>x·σ(x)</c>,
/// hard-swish <c>x·HardSigmoid(x)</c> or <c>x·Clip(x+3,0,6)/6</c>). Relevance: all to the signal, none to the gate,
/// <c>R_signal = Σ_broadcast R</c> (the gate only rescales the signal: the "signal-take-all" treatment of gates of
/// Arras et al. 2017, LRP for LSTMs). Gradient: the product rule, <c>g_s = Σ g·gate</c>,
/// <c>g_gate = Σ g·s</c>, each summed over its broadcast axes.
/// The gate is the operand made by Sigmoid/HardSigmoid (looking through Reshape/Flatten/Squeeze/Unsqueeze/Expand/
/// Identity/Cast); without one, the signal is the operand that is an element-wise ancestor of the other.
/// </summary>
internal sealed class GatingMulPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly int _signal;

    private GatingMulPropagator(Node node, int signal)
    {
        _node = node;
        _signal = signal;
    }

    /// <summary>Which operand is the gate, or a load-time refusal naming why the Mul is not a gate.</summary>
    public static GatingMulPropagator Create(Node node, OnnxGraph graph)
    {
        if (node.Input(0) == node.Input(1))
        {
            throw Refuse(node, "it squares one activation (x·x), which is not a gate");
        }

        bool gate0 = IsGateMade(graph, node.Input(0)), gate1 = IsGateMade(graph, node.Input(1));
        if (gate0 != gate1)
        {
            return new GatingMulPropagator(node, gate0 ? 1 : 0);
        }

        bool zeroFirst = DataFlow.IsElementwiseAncestor(graph, node.Input(0), node.Input(1));
        bool oneFirst = DataFlow.IsElementwiseAncestor(graph, node.Input(1), node.Input(0));
        if (zeroFirst != oneFirst)
        {
            return new GatingMulPropagator(node, zeroFirst ? 0 : 1);
        }

        throw Refuse(node, gate0
            ? "both operands are made by Sigmoid/HardSigmoid, so neither is the signal"
            : "neither operand is made by Sigmoid/HardSigmoid nor is an element-wise ancestor of the other");
    }

    /// <summary>The signal operand's index (0 or 1).</summary>
    internal int SignalIndex => _signal;

    public IEnumerable<string> RequiredValues => [_node.Input(0), _node.Input(1)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue s = alg.Activation(_node.Input(_signal)), gate = alg.Activation(_node.Input(1 - _signal));
        if (s.RowShape.Length != gate.RowShape.Length)
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"signal {s.ShapeText} and gate {gate.ShapeText} per image have different ranks, so the batch axes would not align");
        }

        int[] outRow = Broadcasting.Shape(_node, s.RowShape, gate.RowShape);
        RelValue r = alg.Reshape(outputRelevance[0]!, outRow);
        var result = new RelValue?[_node.Inputs.Count];
        if (plan.Mode == PropagationMode.Relevance)
        {
            result[_signal] = alg.SumTo(r, s.RowShape);
            return result;
        }

        result[_signal] = alg.SumTo(alg.Binary(BinaryOp.Multiply, r, gate), s.RowShape);
        result[1 - _signal] = alg.SumTo(alg.Binary(BinaryOp.Multiply, r, s), gate.RowShape);
        return result;
    }

    private static bool IsGateMade(OnnxGraph graph, string value) =>
        DataFlow.ProducerThroughMoves(graph, value) is { OpType: "Sigmoid" or "HardSigmoid", Domain: "" };

    private static UnsupportedOperatorException Refuse(Node node, string why) =>
        new(node.Name, node.OpType, node.Domain, node.Opset,
            $"Mul of two activations is supported only as a gate (all relevance to the signal), but {why}; ungated products of activations are not supported yet");
}
