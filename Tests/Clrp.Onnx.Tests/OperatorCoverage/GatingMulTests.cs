using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Mul of two activations as a gate (DESIGN §1): squeeze-excitation, SiLU, hard-swish in both spellings. On
/// <c>x → gate(x) ⊙ x → Flatten</c> all relevance reaches x through the signal — exactly the seed |y_j| at x_j, nothing
/// through the gate's branch — while the gradient follows the product rule (finite differences of ORT).
/// </summary>
[TestClass]
public sealed class GatingMulTests
{
    private static readonly int[] Image = [3, 2, 2];

    [TestMethod]
    [DataRow("squeeze-excitation", 7)]
    [DataRow("squeeze-excitation-gate-first", 13)]
    [DataRow("squeeze-excitation-unsqueezed", 7)]
    [DataRow("squeeze-excitation-unsqueezed", 13)]
    [DataRow("squeeze-excitation-hardsigmoid", 21)]
    [DataRow("silu", 7)]
    [DataRow("silu", 21)]
    [DataRow("hardswish-hardsigmoid", 13)]
    [DataRow("hardswish-clip", 7)]
    [DataRow("hardswish-clip", 13)]
    [DataRow("hardswish-clip", 22)]
    public void Gate_AllRelevanceToSignalGradientByProductRule(string variant, int opset)
    {
        byte[] model = Build(variant, opset);
        float[] x = CoverageHarness.AwayFromZero(opset + variant.Length, 12).Select(v => v * 1.5f).ToArray();
        x = x.Select(v => Math.Abs(Math.Abs(v) - 3f) < 0.05f ? v + 0.1f : v).ToArray(); // off the hard-swish kinks at ±3
        Explanation lrp = CoverageHarness.Lrp(model, x, [1, .. Image], Target.TopK(12));
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. Image]);
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{variant}-{opset}: logits");
        for (int k = 0; k < 12; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            var expected = new double[12];
            expected[j] = Math.Abs(y[j]);
            Compare.Close(lrp.Relevance.Data.AsSpan(k * 12, 12), expected, 1e-6, $"{variant}-{opset}: output {j}'s relevance all to the signal x_{j}");
        }

        ArithmeticOpsTests.AssertGradientsMatchFiniteDifferences(model, x, Image, 12, $"{variant}-{opset}");
    }

    [TestMethod]
    public void GateDetection_SigmoidThroughReshapes_PicksTheOtherOperandAsSignal()
    {
        OnnxGraph graph = OnnxModelReader.Read(Build("squeeze-excitation-unsqueezed", 13), "se");
        Node mul = graph.Nodes.Single(n => n.OpType == "Mul");
        var propagator = (GatingMulPropagator)OperatorRegistry.Default.Create(mul, graph);
        Assert.AreEqual(0, propagator.SignalIndex, "x is the signal, the unsqueezed sigmoid the gate");
    }

    /// <summary>x [N,3,2,2] → the variant's gated product → Flatten.</summary>
    private static byte[] Build(string variant, int opset)
    {
        var b = new OnnxBuilder(opset).Input("x", "N", 3, 2, 2);
        switch (variant)
        {
            case "squeeze-excitation" or "squeeze-excitation-gate-first" or "squeeze-excitation-hardsigmoid":
                b.Node("GlobalAveragePool", ["x"], ["pooled"]).Node(variant.EndsWith("hardsigmoid", StringComparison.Ordinal) ? "HardSigmoid" : "Sigmoid", ["pooled"], ["gate"])
                    .Node("Mul", variant.EndsWith("first", StringComparison.Ordinal) ? ["gate", "x"] : ["x", "gate"], ["y"]);
                break;
            case "squeeze-excitation-unsqueezed":
                // GAP → Flatten → Sigmoid → Unsqueeze(2) → Unsqueeze(3): the gate is found through the moves.
                b.Node("GlobalAveragePool", ["x"], ["pooled"]).Node("Flatten", ["pooled"], ["flat"]).Node("Sigmoid", ["flat"], ["s"]);
                if (opset < 13)
                {
                    b.Node("Unsqueeze", ["s"], ["u"], OnnxBuilder.Ints("axes", 2)).Node("Unsqueeze", ["u"], ["gate"], OnnxBuilder.Ints("axes", 3));
                }
                else
                {
                    b.Int64Initializer("a2", [2], [1]).Int64Initializer("a3", [3], [1]).Node("Unsqueeze", ["s", "a2"], ["u"]).Node("Unsqueeze", ["u", "a3"], ["gate"]);
                }

                b.Node("Mul", ["x", "gate"], ["y"]);
                break;
            case "silu":
                b.Node("Sigmoid", ["x"], ["gate"]).Node("Mul", ["gate", "x"], ["y"]);
                break;
            case "hardswish-hardsigmoid":
                // PaddleOCR's spelling: x · HardSigmoid(x; α = 1/6, β = 0.5).
                b.Node("HardSigmoid", ["x"], ["gate"], OnnxBuilder.Float32("alpha", 1f / 6), OnnxBuilder.Float32("beta", 0.5f)).Node("Mul", ["x", "gate"], ["y"]);
                break;
            default:
                // x · Clip(x + 3, 0, 6) / 6: no sigmoid; x is the element-wise ancestor of the other operand.
                b.Initializer("three", [3f], []).Initializer("six", [6f], []).Node("Add", ["x", "three"], ["shifted"]);
                if (opset < 11)
                {
                    b.Node("Clip", ["shifted"], ["clipped"], OnnxBuilder.Float32("min", 0), OnnxBuilder.Float32("max", 6));
                }
                else
                {
                    b.Initializer("zero", [0f], []).Node("Clip", ["shifted", "zero", "six"], ["clipped"]);
                }

                b.Node("Mul", ["clipped", "x"], ["product"]).Node("Div", ["product", "six"], ["y"]);
                break;
        }

        return b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
    }
}
