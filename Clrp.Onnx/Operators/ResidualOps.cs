using Clrp.Onnx.Graph;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Composites;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Add or Sub of two activations a ± b (residual connections), broadcast-aware. Relevance ("Norm", the composite's Norm stabiliser, 1e-6 by default):
/// <c>R_a = Σ_j a·R_j / stab(a ± b)</c> and <c>R_b = Σ_j (±b)·R_j / stab(a ± b)</c>, summed over the output elements j each
/// operand element reaches (broadcast axes); so R_a + R_b = R up to the stabiliser. Under <see cref="ResidualSharing.ZPlus"/>
/// the positive parts replace the operands: <c>R_a = Σ_j a⁺·R_j / stab(a⁺ + (±b)⁺)</c>, likewise b. Gradient: <c>g_a = Σ g</c>,
/// <c>g_b = ±Σ g</c>.
/// </summary>
internal sealed class NormSumPropagator(Node node) : IOperatorPropagator
{
    public IEnumerable<string> RequiredValues => [node.Input(0), node.Input(1)];

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue a = alg.Activation(node.Input(0)), b = alg.Activation(node.Input(1));
        if (a.RowShape.Length != b.RowShape.Length)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"operands {a.ShapeText} and {b.ShapeText} per image have different ranks, so the batch axes would not align");
        }

        int[] outRow = Broadcasting.Shape(node, a.RowShape, b.RowShape);
        RelValue r = alg.Reshape(outputRelevance[0]!, outRow);
        bool subtract = node.OpType == "Sub";
        if (plan.Mode == PropagationMode.Gradient)
        {
            RelValue gb = alg.SumTo(r, b.RowShape);
            return [alg.SumTo(r, a.RowShape), subtract ? alg.Unary(UnaryOp.Negate, gb) : gb];
        }

        // a − b shares as a + (−b).
        return ResidualShares.Share(r, [a, subtract ? alg.Unary(UnaryOp.Negate, b) : b], alg, plan);
    }
}

/// <summary>
/// The relevance sharing of a residual sum of activations x_1 + … + x_n, written once for Add/Sub and Sum so that both
/// follow the composite's choice: Norm, <c>R_k = Σ_j x_k·R_j / stab(Σ_i x_i)</c>, or under <see cref="ResidualSharing.ZPlus"/>
/// <c>R_k = Σ_j x_k⁺·R_j / stab(Σ_i x_i⁺)</c>, each summed over the output elements j that x_k reaches (broadcast).
/// </summary>
internal static class ResidualShares
{
    /// <summary>The operands' relevance, each of its operand's row shape.</summary>
    /// <param name="r">The sum's relevance, of the broadcast row shape.</param>
    /// <param name="operands">The operands as they enter the sum (a subtracted operand negated).</param>
    /// <param name="alg">The algebra.</param>
    /// <param name="plan">The composite's residual-sum choice and Norm stabiliser.</param>
    public static RelValue?[] Share(RelValue r, RelValue[] operands, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue[] x = operands;
        int knownSign = 0;
        if (plan.Residual == ResidualSharing.ZPlus)
        {
            // Measured on fashion-pair-resnet (README, "CLRP on ResNets"): the signed shares of Norm reach ±10× the relevance
            // they split where a branch and its shortcut cancel, and CLRP's difference turns them into its maximum.
            x = [.. operands.Select(v => alg.Unary(UnaryOp.Relu, v))];
            knownSign = 1;
        }

        RelValue total = x.Skip(1).Aggregate(x[0], (acc, v) => alg.Binary(BinaryOp.Add, acc, v));
        RelValue s = alg.DivideStabilized(r, total, plan.Norm.Stabilizer, knownSign);
        return [.. x.Select(v => (RelValue?)alg.SumTo(alg.Binary(BinaryOp.Multiply, s, v), v.RowShape))];
    }
}

/// <summary>
/// Sum of n activations (issue 11; an n-ary residual): proportional, as <see cref="NormSumPropagator"/> for two,
/// <c>R_k = Σ_j x_k·R_j / stab(Σ_i x_i)</c> summed over the output elements x_k reaches (broadcast), so Σ_k R_k = R up to the
/// stabiliser. Under <see cref="ResidualSharing.ZPlus"/> (the composite's residual-sum choice, as for Add) the positive parts
/// replace the operands: <c>R_k = Σ_j x_k⁺·R_j / stab(Σ_i x_i⁺)</c>. Gradient: <c>g_k = Σ_broadcast g</c>. Every operand must be
/// an activation (a constant operand would be a bias that absorbs, which Add by a constant already covers).
/// </summary>
internal sealed class SumPropagator : IOperatorPropagator
{
    private readonly Node _node;

    public SumPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        if (node.Inputs.Any(i => i.Length == 0 || !DataFlow.IsActivation(graph, i)))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "Sum with a constant operand is not supported; every operand must be computed from the input (write Add for a constant)");
        }
    }

    public IEnumerable<string> RequiredValues => _node.Inputs.Distinct(StringComparer.Ordinal);

    public bool IsLinear => false;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue[] x = _node.Inputs.Select(alg.Activation).ToArray();
        if (x.Any(v => v.RowShape.Length != x[0].RowShape.Length))
        {
            throw new UnsupportedOperatorException(_node.Name, _node.OpType, _node.Domain, _node.Opset, $"operands {string.Join(", ", x.Select(v => v.ShapeText))} per image have different ranks, so the batch axes would not align");
        }

        int[] outRow = x.Skip(1).Aggregate(x[0].RowShape, (shape, v) => Broadcasting.Shape(_node, shape, v.RowShape));
        RelValue r = alg.Reshape(outputRelevance[0]!, outRow);
        if (plan.Mode == PropagationMode.Gradient)
        {
            return x.Select(v => (RelValue?)alg.SumTo(r, v.RowShape)).ToArray();
        }

        // The same sharing as Add, so a model's exporter (Add chain or Sum) cannot change the rule.
        return ResidualShares.Share(r, x, alg, plan);
    }
}
