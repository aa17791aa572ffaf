using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Scale;

/// <summary>
/// Long straight chains (issue 11): load, plan, probe and walk must stay linear in the node count. Their speed is measured
/// in <c>Tests/Clrp.Benchmarks/LongChainBenchmarks.cs</c>; here the explanation of a 2,000-node chain is checked against
/// a float64 reference (the ε rule on the Gemm, relevance passed unchanged through every Relu).
/// </summary>
[TestClass]
public sealed class LongChainTests
{
    private const int Features = 48;
    private const int Classes = 5;

    /// <summary>x [N,3,4,4] → Relu × <paramref name="relus"/> → Flatten → Gemm(48→5, no bias).</summary>
    internal static byte[] ReluChain(int relus, float[] weights)
    {
        var b = new OnnxBuilder(opset: 17).Input("x", "N", 3, 4, 4);
        string prev = "x";
        for (int i = 0; i < relus; i++)
        {
            b.Node("Relu", [prev], [$"r{i}"], $"relu{i}");
            prev = $"r{i}";
        }

        return b.Node("Flatten", [prev], ["f"], "flatten")
            .Initializer("w", weights, [Classes, Features])
            .Node("Gemm", ["f", "w"], ["y"], "gemm", OnnxBuilder.Int("transB", 1))
            .Output("y")
            .ToBytes();
    }

    [TestMethod]
    [DataRow(ExplainerEngine.Managed)]
    [DataRow(ExplainerEngine.Compiled)]
    public void Explain_ReluChainOf2000_EqualsTheEpsilonRuleOfTheGemmOnRelu(ExplainerEngine engine)
    {
        var rng = new Random(11);
        float[] w = Enumerable.Range(0, Classes * Features).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float[] x = Enumerable.Range(0, Features).Select(i => (float)Math.Sin(i + 0.5)).ToArray();
        var options = new ExplainerOptions { Method = ExplainMethod.Lrp, Engine = engine, Rules = CompositePresets.Epsilon(1e-6f) };
        Explanation e = ExplainerHarness.Explain(ReluChain(2000, w), x, [1, 3, 4, 4], options, 2);

        double[] a = x.Select(v => Math.Max(0.0, v)).ToArray();
        double z = Enumerable.Range(0, Features).Sum(i => w[2 * Features + i] * a[i]);
        Compare.Close(e.Logits.Row(0), Enumerable.Range(0, Classes).Select(k => Enumerable.Range(0, Features).Sum(i => w[k * Features + i] * a[i])).ToArray(), 1e-5, "logits");
        double stab = z + (z >= 0 ? 1e-6 : -1e-6);
        double[] expected = Enumerable.Range(0, Features).Select(i => a[i] * w[2 * Features + i] / stab * Math.Abs(z)).ToArray();
        Compare.Close(e.Relevance.Data, expected, 1e-4, $"{engine}: relevance through 2,000 Relu nodes");
    }
}
