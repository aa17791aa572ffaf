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

        // s = R / stab(a ± b); R_a = Σ a·s, R_b = Σ (±b)·s over the elements each operand reaches.
        RelValue signedB = subtract ? alg.Unary(UnaryOp.Negate, b) : b;
        int knownSign = 0;
        if (plan.Residual == ResidualSharing.ZPlus)
        {
            // Measured on fashion-pair-resnet (README, "CLRP on ResNets"): the signed shares of Norm reach ±10× the relevance
            // they split where a branch and its shortcut cancel, and CLRP's difference turns them into its maximum.
            a = alg.Unary(UnaryOp.Relu, a);
            signedB = alg.Unary(UnaryOp.Relu, signedB);
            knownSign = 1;
        }

        RelValue s = alg.DivideStabilized(r, alg.Binary(BinaryOp.Add, a, signedB), plan.Norm.Stabilizer, knownSign);
        return [alg.SumTo(alg.Binary(BinaryOp.Multiply, s, a), a.RowShape), alg.SumTo(alg.Binary(BinaryOp.Multiply, s, signedB), b.RowShape)];
    }
}
