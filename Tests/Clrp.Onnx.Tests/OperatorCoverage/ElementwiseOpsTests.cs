using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Activations that pass relevance (DESIGN §1): on <c>x → op → Flatten</c>, LRP of output j is exactly the seed
/// <c>|y_j|</c> at x_j, and the gradient equals central finite differences of ONNX Runtime's forward (inputs kept away
/// from the kinks). Attribute and input forms (Clip) at the first verified opset and at 21.
/// </summary>
[TestClass]
public sealed class ElementwiseOpsTests
{
    private static readonly int[] Image = [2, 3, 3];

    [TestMethod]
    [DataRow("LeakyRelu", 6, "alpha=0.2")]
    [DataRow("LeakyRelu", 22, "")]
    [DataRow("Elu", 6, "alpha=0.5")]
    [DataRow("Elu", 22, "")]
    [DataRow("Selu", 6, "")]
    [DataRow("Selu", 22, "alpha=1.5,gamma=1.2")]
    [DataRow("Sigmoid", 6, "")]
    [DataRow("Sigmoid", 22, "")]
    [DataRow("HardSigmoid", 6, "")]
    [DataRow("HardSigmoid", 22, "alpha=0.25,beta=0.4")]
    [DataRow("HardSwish", 14, "")]
    [DataRow("HardSwish", 22, "")]
    [DataRow("Tanh", 6, "")]
    [DataRow("Tanh", 22, "")]
    [DataRow("Softplus", 1, "")]
    [DataRow("Softplus", 22, "")]
    [DataRow("Softsign", 1, "")]
    [DataRow("Softsign", 22, "")]
    [DataRow("Mish", 18, "")]
    [DataRow("Mish", 22, "")]
    [DataRow("Gelu", 20, "")]
    [DataRow("Gelu", 22, "approximate=tanh")]
    [DataRow("Clip", 6, "min=0,max=6")]
    [DataRow("Clip", 11, "inputs=0:6")]
    [DataRow("Clip", 13, "inputs=-0.5:")]
    [DataRow("Clip", 22, "inputs=-1:1.5")]
    [DataRow("Cast", 6, "to=1")]
    [DataRow("Cast", 22, "to=1")]
    [DataRow("PRelu", 7, "slope=channel")]
    [DataRow("PRelu", 22, "slope=shared")]
    [DataRow("LRN", 1, "size=3")]
    [DataRow("LRN", 22, "size=5")]
    public void Activation_PassesRelevanceAndGradientMatchesFiniteDifferences(string op, int opset, string settings)
    {
        (byte[] model, float[] kinks) = Build(op, opset, settings);
        // Kinked ops get a wide range (both sides of each kink); saturating ones a narrow one, where float32 finite differences resolve f'.
        float spread = op is "HardSigmoid" or "HardSwish" or "Clip" or "LeakyRelu" or "PRelu" ? 2.5f : 1f;
        float[] x = AwayFrom(CoverageHarness.AwayFromZero(opset + op.Length, 18).Select(v => spread * v).ToArray(), kinks);
        int d = x.Length;

        Explanation lrp = CoverageHarness.Lrp(model, x, [1, .. Image], Target.TopK(d));
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. Image]);
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{op}-{opset}: logits vs ORT");
        for (int k = 0; k < d; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            var expected = new double[d];
            expected[j] = Math.Abs(y[j]);
            Compare.Close(lrp.Relevance.Data.AsSpan(k * d, d), expected, 1e-6, $"{op}-{opset}: relevance of output {j} passes to x_{j}");
        }

        Explanation grad = CoverageHarness.Gradient(model, x, [1, .. Image], Target.TopK(d));
        using var oracle = new OrtOracle(model);
        for (int k = 0; k < d; k++)
        {
            int j = grad.TargetClassOf(0, k);
            double[] fd = oracle.FiniteDifferenceGradient(x, [1, .. Image], j, 1e-2f);
            Compare.Close(grad.Relevance.Data.AsSpan(k * d, d), fd, 2e-3, $"{op}-{opset}: gradient of output {j} vs finite differences");
        }
    }

    [TestMethod]
    public void Cast_ToInteger_RefusedAtLoad()
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 3).Node("Cast", ["x"], ["i"], OnnxBuilder.Int("to", 7)).Node("Cast", ["i"], ["y"], OnnxBuilder.Int("to", 1))
            .Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "float32");
    }

    /// <summary>The one-op model and the inputs where its derivative jumps.</summary>
    private static (byte[] Model, float[] Kinks) Build(string op, int opset, string settings)
    {
        Dictionary<string, string> s = settings.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        float F(string key, float fallback) => s.TryGetValue(key, out string? v) ? float.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : fallback;
        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 3);
        var attributes = new List<AttributeProto>();
        string[] inputs = ["x"];
        float[] kinks = [0f];
        foreach (string key in new[] { "alpha", "beta", "gamma", "min", "max" }.Where(s.ContainsKey))
        {
            attributes.Add(OnnxBuilder.Float32(key, F(key, 0)));
        }

        if (s.TryGetValue("approximate", out string? approximate))
        {
            attributes.Add(OnnxBuilder.String("approximate", approximate));
        }

        switch (op)
        {
            case "HardSigmoid":
                float alpha = F("alpha", 0.2f), beta = F("beta", 0.5f);
                kinks = [-beta / alpha, (1 - beta) / alpha];
                break;
            case "HardSwish":
                kinks = [-3f, 3f];
                break;
            case "Clip" when s.ContainsKey("inputs"):
                string[] bounds = s["inputs"].Split(':');
                var names = new List<string> { "x" };
                for (int i = 0; i < 2; i++)
                {
                    if (bounds[i].Length == 0)
                    {
                        names.Add(string.Empty);
                        continue;
                    }

                    b.Initializer(i == 0 ? "min" : "max", [float.Parse(bounds[i], System.Globalization.CultureInfo.InvariantCulture)], []);
                    names.Add(i == 0 ? "min" : "max");
                }

                inputs = [.. names];
                kinks = bounds.Where(v => v.Length > 0).Select(v => float.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
                break;
            case "Clip":
                kinks = [F("min", 0), F("max", 6)];
                break;
            case "Cast":
                attributes.Add(OnnxBuilder.Int("to", 1));
                kinks = [];
                break;
            case "PRelu":
                bool channel = s["slope"] == "channel";
                b.Initializer("slope", channel ? [0.25f, -0.5f] : [0.1f], channel ? [2, 1, 1] : [1]);
                inputs = ["x", "slope"];
                break;
            case "LRN":
                attributes.Add(OnnxBuilder.Int("size", long.Parse(s["size"], System.Globalization.CultureInfo.InvariantCulture)));
                attributes.Add(OnnxBuilder.Float32("alpha", 0.5f));
                attributes.Add(OnnxBuilder.Float32("bias", 1.5f));
                kinks = [];
                break;
            default:
                break;
        }

        byte[] model = b.Node(op, inputs, ["y"], [.. attributes]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        return (model, kinks);
    }

    /// <summary>Moves values within 0.05 of a kink 0.05 away from it, so finite differences see one side.</summary>
    private static float[] AwayFrom(float[] x, float[] kinks) =>
        x.Select(v => kinks.Aggregate(v, (acc, k) => Math.Abs(acc - k) < 0.05f ? k + (acc >= k ? 0.05f : -0.05f) : acc)).ToArray();
}
