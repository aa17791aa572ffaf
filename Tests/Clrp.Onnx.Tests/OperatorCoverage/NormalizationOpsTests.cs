using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Normalisations by the activation's own statistics (LayerNormalization, InstanceNormalization, GroupNormalization, the
/// exporters' decomposed LayerNorm, division by the L2 norm) and the exporters' GELU patterns. Each is checked on
/// <c>x → op → Flatten</c>: the forward against a float64 re-implementation written here, LRP of output j is exactly the
/// seed <c>|y_j|</c> at x_j (the LN-rule: statistics frozen, relevance passes, so ΣR_in = ΣR_out exactly), and the gradient
/// against central finite differences of ONNX Runtime's forward on the file (the true derivative, statistics live).
/// </summary>
[TestClass]
public sealed class NormalizationOpsTests
{
    private static readonly float[] Gamma = [0.8f, 1.3f, -0.6f, 1.1f, 0.5f, 1.7f];
    private static readonly float[] Beta = [0.1f, -0.2f, 0.05f, 0.3f, -0.1f, 0.2f];

    [TestMethod]
    [DataRow("LayerNormalization", 17, "axis=-1")]
    [DataRow("LayerNormalization", 17, "axis=1")]
    [DataRow("LayerNormalization", 22, "axis=2")]
    [DataRow("InstanceNormalization", 7, "")]
    [DataRow("InstanceNormalization", 22, "")]
    [DataRow("GroupNormalization", 18, "groups=2")]
    [DataRow("GroupNormalization", 21, "groups=2")]
    [DataRow("TorchGroupNorm", 13, "groups=2")]
    [DataRow("DecomposedLayerNorm", 14, "pow")]
    [DataRow("DecomposedLayerNorm", 18, "mul")]
    [DataRow("DecomposedLayerNorm", 13, "pow,axes=2,3")]
    [DataRow("L2Normalize", 13, "ReduceL2,Clip,Expand")]
    [DataRow("L2Normalize", 13, "ReduceSum(x*x),Sqrt,Add")]
    [DataRow("L2Normalize", 11, "ReduceSumSquare,Sqrt,Max")]
    [DataRow("L2Normalize", 18, "ReduceSum(Pow)+eps,Sqrt")]
    [DataRow("LpNormalization", 7, "axis=1")]
    [DataRow("LpNormalization", 22, "axis=-1")]
    public void Normalisation_ForwardMatchesFloat64_PassesRelevance_GradientMatchesFiniteDifferences(string op, int opset, string settings)
    {
        int[] image = [4, 2, 3];
        (byte[] model, Func<double[], double[]> reference) = Build(op, opset, settings, image);
        float[] x = RandomData.Normal(new Random(opset + op.Length + settings.Length), 24);
        AssertForwardPassAndGradient(model, x, image, reference, $"{op}-{opset} {settings}");
        if (op is "DecomposedLayerNorm" or "L2Normalize")
        {
            string fused = op == "DecomposedLayerNorm" ? "LayerNormalization" : "L2Normalize";
            ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model), new ExplainerOptions());
            Assert.IsTrue(report.Nodes.Any(n => n.Role.Contains($"rewritten as {fused}", StringComparison.Ordinal)), $"{op} {settings}: no node rewritten as {fused}");
            Assert.IsTrue(report.Nodes.Count(n => n.Role.Contains($"fused into {fused}", StringComparison.Ordinal)) >= 2, $"{op} {settings}: the pattern's other nodes are not reported as fused");
        }
    }

    [TestMethod]
    [DataRow(13, "erf-div")]
    [DataRow(17, "erf-mul-half-first")]
    [DataRow(14, "tanh-mul")]
    [DataRow(18, "tanh-pow")]
    public void ExporterGeluPattern_FusedToGelu_PassesRelevance_GradientIsGeluDerivative(int opset, string form)
    {
        int[] image = [2, 3, 3];
        byte[] model = GeluPattern(opset, form);
        bool tanh = form.StartsWith("tanh", StringComparison.Ordinal);
        double[] Reference(double[] v) => v.Select(a => tanh
            ? 0.5 * a * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (a + (0.044715 * a * a * a))))
            : 0.5 * a * (1 + Erf(a / Math.Sqrt(2)))).ToArray();
        // GELU′ is 0 at x ≈ −0.7518 (GELU's minimum), where the relative error of a finite difference is unbounded: inputs keep
        // 0.15 away. Below −3 float32's 1 + tanh u (or 1 + erf) cancels and ORT's finite differences lose their digits: x ≥ −3.
        float[] x = RandomData.Normal(new Random(opset), 18).Select(v => Math.Max(-3f, 2 * v)).Select(v => Math.Abs(v + 0.7518f) < 0.15f ? v + (v >= -0.7518f ? 0.15f : -0.15f) : v).ToArray();
        AssertForwardPassAndGradient(model, x, image, Reference, $"GELU {form}");
        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model), new ExplainerOptions());
        Assert.AreEqual(1, report.Nodes.Count(n => n.Role.Contains("rewritten as Gelu", StringComparison.Ordinal)), $"GELU {form}: not fused");
    }

    [TestMethod]
    public void GeluPattern_InnerValueReadElsewhere_NotFused()
    {
        // The Erf output also feeds the logits: fusing would hide a value the model reads, so the pattern stays and its
        // Mul of two activations is refused as ungated (the walk never silently drops a branch).
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3, 3).Initializer("s2", [1.4142135f], []).Initializer("one", [1f], []).Initializer("half", [0.5f], [])
            .Node("Div", ["x", "s2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["a"]).Node("Mul", ["x", "a"], ["m"]).Node("Mul", ["m", "half"], ["g"])
            .Node("Add", ["g", "e"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        ModelReport report = ClrpExplainer.Inspect(ExplainerHarness.Save(model), new ExplainerOptions());
        string roles = string.Join("; ", report.Nodes.Select(n => $"{n.Node.Name} {n.Node.OpType}: {n.Role}"));
        Assert.IsFalse(report.IsSupported, "the unfused pattern's Erf and ungated Mul are refused");
        Assert.AreEqual(0, report.Nodes.Count(n => n.Role.Contains("as Gelu", StringComparison.Ordinal) || n.Role.Contains("into Gelu", StringComparison.Ordinal)), $"fused although 'e' is read outside the pattern: {roles}");
    }

    [TestMethod]
    public void LayerNorm_StatisticOutputRead_RefusedNamingIt()
    {
        byte[] model = new OnnxBuilder(17).Input("x", "N", 2, 3).Initializer("s", [1f, 1f, 1f], [3])
            .Node("LayerNormalization", ["x", "s"], ["y", "mean"], "ln").Node("Add", ["y", "mean"], ["z"]).Node("Flatten", ["z"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "'mean'");
        Assert.AreEqual("ln", e.NodeName);
    }

    [TestMethod]
    [DataRow("LpNormalization", 13, "p 1", "only the L2 norm")]
    public void Normalisation_BadAttributes_RefusedNamingTheNode(string op, int opset, string setting, string message)
    {
        var b = new OnnxBuilder(opset).Input("x", "N", 4, 2, 3).Initializer("s", [1f, 1f, 1f, 1f], [4]).Initializer("b", [0f, 0f, 0f, 0f], [4]);
        // (A LayerNormalization over the batch axis or a GroupNormalization whose groups do not divide C fail in ONNX Runtime
        // first, with ModelRunException naming the node; the propagators refuse them too.)
        b = b.Node(op, ["x"], ["y"], "norm", OnnxBuilder.Int("p", 1));
        byte[] model = b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        foreach (ExplainerEngine engine in new[] { ExplainerEngine.Managed, ExplainerEngine.Compiled })
        {
            var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() =>
            {
                using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Engine = engine });
                explainer.Explain(new Clrp.Onnx.Tensors.Tensor(RandomData.Normal(new Random(1), 24), [1, 4, 2, 3]), Target.Class(0));
            }, $"{op} {setting} {engine}");
            StringAssert.Contains(e.Message, message);
            Assert.AreEqual("norm", e.NodeName);
        }
    }

    [TestMethod]
    public void DivOfTwoActivations_NotANorm_RefusedWithWhatIsSupported()
    {
        byte[] model = new OnnxBuilder(13).Input("x", "N", 2, 3).Node("Relu", ["x"], ["r"]).Node("Div", ["x", "r"], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "own L2 norm");
    }

    /// <summary>
    /// Forward vs float64 and ORT, relevance passes to the same element (exact conservation), gradient vs ORT finite
    /// differences. The seeds are the explainer's |y_j| (its logits are checked against ORT's as a vector): for GELU near x = −3
    /// float32 cancels in 1 + tanh u, and ORT's optimised session (its own GELU fusion) differs from the plain one by ~5e-5 there.
    /// </summary>
    private static void AssertForwardPassAndGradient(byte[] model, float[] x, int[] image, Func<double[], double[]> reference, string what)
    {
        int d = x.Length;
        double[] expectedY = reference(x.Select(v => (double)v).ToArray());
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. image]);
        Compare.Close(y, expectedY, 1e-5, $"{what}: ORT vs the float64 re-implementation");
        foreach (ExplainerEngine engine in new[] { ExplainerEngine.Managed, ExplainerEngine.Compiled })
        {
            var lrpOptions = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.Epsilon(), Engine = engine };
            Explanation lrp = ExplainerHarness.Explain(model, x, [1, .. image], lrpOptions, Target.TopK(d));
            Compare.Close(lrp.Logits.Data, y, 1e-6, $"{what} {engine}: logits vs ORT");
            for (int k = 0; k < d; k++)
            {
                int j = lrp.TargetClassOf(0, k);
                var expected = new double[d];
                expected[j] = Math.Abs(lrp.Logits.Data[j]);
                Compare.Close(lrp.Relevance.Data.AsSpan(k * d, d), expected, 1e-5, $"{what} {engine}: relevance of output {j} passes to x_{j}");
            }

            Explanation grad = ExplainerHarness.Explain(model, x, [1, .. image], new ExplainerOptions { Method = ExplainMethod.Gradient, Engine = engine }, Target.TopK(d));
            using var oracle = new OrtOracle(model);
            for (int k = 0; k < d; k++)
            {
                int j = grad.TargetClassOf(0, k);
                double[] fd = oracle.FiniteDifferenceGradient(x, [1, .. image], j, 1e-2f);
                Compare.Close(grad.Relevance.Data.AsSpan(k * d, d), fd, 3e-3, $"{what} {engine}: gradient of output {j} vs finite differences");
            }
        }
    }

    private static (byte[] Model, Func<double[], double[]> Reference) Build(string op, int opset, string settings, int[] image)
    {
        var b = new OnnxBuilder(opset).Input("x", ["N", .. image.Select(v => (object)(long)v)]);
        int channels = image[0], inner = image[1] * image[2];
        switch (op)
        {
            case "LayerNormalization":
            {
                int axis = int.Parse(settings["axis=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                int first = axis < 0 ? axis + 4 : axis;
                long[] normalised = [.. image[(first - 1)..].Select(v => (long)v)];
                int size = (int)normalised.Aggregate(1L, (p, v) => p * v);
                float[] gamma = Enumerable.Range(0, size).Select(i => Gamma[i % Gamma.Length] * (1 + (0.01f * i))).ToArray();
                float[] beta = Enumerable.Range(0, size).Select(i => Beta[i % Beta.Length]).ToArray();
                b.Initializer("g", gamma, normalised).Initializer("b", beta, normalised)
                    .Node(op, ["x", "g", "b"], ["y"], OnnxBuilder.Int("axis", axis), OnnxBuilder.Float32("epsilon", 1e-3f));
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => Normalise(v, 24 / size, 1e-3, (i, n) => (gamma[i % size] * n) + beta[i % size]));
            }

            case "InstanceNormalization":
            {
                b.Initializer("g", Gamma[..channels], [channels]).Initializer("b", Beta[..channels], [channels]).Node(op, ["x", "g", "b"], ["y"], OnnxBuilder.Float32("epsilon", 1e-3f));
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => Normalise(v, channels, 1e-3, (i, n) => (Gamma[i / inner] * n) + Beta[i / inner]));
            }

            case "GroupNormalization":
            {
                int groups = 2, perGroup = channels / groups;
                int count = opset >= 21 ? channels : groups;
                b.Initializer("g", Gamma[..count], [count]).Initializer("b", Beta[..count], [count])
                    .Node(op, ["x", "g", "b"], ["y"], OnnxBuilder.Int("num_groups", groups), OnnxBuilder.Float32("epsilon", 1e-3f));
                int Index(int i) => opset >= 21 ? i / inner : i / inner / perGroup;
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => Normalise(v, groups, 1e-3, (i, n) => (Gamma[Index(i)] * n) + Beta[Index(i)]));
            }

            case "TorchGroupNorm":
            {
                // torch.onnx's group_norm before opset 18: Reshape [N, G, −1] → InstanceNormalization (γ = 1, β = 0) → Reshape to
                // Shape(x) → Mul γ [C,1,1] → Add β [C,1,1].
                b.Int64Initializer("grouped", [0, 2, -1], [3]).Initializer("ones", [1f, 1f], [2]).Initializer("zeros", [0f, 0f], [2])
                    .Initializer("g", Gamma[..channels], [channels, 1, 1]).Initializer("b", Beta[..channels], [channels, 1, 1])
                    .Node("Reshape", ["x", "grouped"], ["xg"]).Node("InstanceNormalization", ["xg", "ones", "zeros"], ["ng"], OnnxBuilder.Float32("epsilon", 1e-3f))
                    .Node("Shape", ["x"], ["shape"]).Node("Reshape", ["ng", "shape"], ["n"]).Node("Mul", ["n", "g"], ["ngm"]).Node("Add", ["ngm", "b"], ["y"]);
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => Normalise(v, 2, 1e-3, (i, n) => (Gamma[i / inner] * n) + Beta[i / inner]));
            }

            case "DecomposedLayerNorm":
            {
                // torch.onnx's layer_norm before opset 17, over the last axis (or positive axes [2, 3], as other exporters write
                // them), then Mul γ and Add β.
                bool positive = settings.Contains("axes=2,3", StringComparison.Ordinal);
                long[] axes = positive ? [2, 3] : [-1];
                int size = positive ? 6 : 3;
                b.Initializer("two", [2f], []).Initializer("eps", [1e-3f], []).Initializer("g", Gamma[..size], [size]).Initializer("b", Beta[..size], [size]);
                if (opset >= 18)
                {
                    b.Int64Initializer("axes", axes, [axes.Length]).Node("ReduceMean", ["x", "axes"], ["mean"]);
                }
                else
                {
                    b.Node("ReduceMean", ["x"], ["mean"], OnnxBuilder.Ints("axes", axes));
                }

                bool pow = settings.StartsWith("pow", StringComparison.Ordinal);
                b.Node("Sub", ["x", "mean"], ["d"]).Node(pow ? "Pow" : "Mul", pow ? ["d", "two"] : ["d", "d"], ["sq"]);
                b = opset >= 18 ? b.Node("ReduceMean", ["sq", "axes"], ["var"]) : b.Node("ReduceMean", ["sq"], ["var"], OnnxBuilder.Ints("axes", axes));
                // γ and β over the normalised axes: [3], or [2, 3] for axes 2 and 3.
                if (positive)
                {
                    b.Initializer("g2", Gamma[..6], [2, 3]).Initializer("b2", Beta[..6], [2, 3]);
                }

                b.Node("Add", ["var", "eps"], ["ve"]).Node("Sqrt", ["ve"], ["sd"]).Node("Div", ["d", "sd"], ["n"])
                    .Node("Mul", ["n", positive ? "g2" : "g"], ["ng"]).Node("Add", ["ng", positive ? "b2" : "b"], ["y"]);
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => Normalise(v, 24 / size, 1e-3, (i, n) => (Gamma[i % size] * n) + Beta[i % size]));
            }

            case "L2Normalize":
                return (L2Pattern(b, opset, settings, image), v => L2Reference(v, settings));
            case "LpNormalization":
            {
                int axis = int.Parse(settings["axis=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                b.Node(op, ["x"], ["y"], OnnxBuilder.Int("axis", axis), OnnxBuilder.Int("p", 2));
                return (b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes(), v => axis == 1 ? L2Over(v, i => i % inner, 0, 0) : L2Over(v, i => i / 3, 0, 0));
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(op));
        }
    }

    /// <summary>Channel norm (axis 1 of [N,4,2,3]) in the forms exporters write.</summary>
    private static byte[] L2Pattern(OnnxBuilder b, int opset, string settings, int[] image)
    {
        b.Initializer("eps", [1e-2f], []).Initializer("two", [2f], []);
        string norm;
        switch (settings)
        {
            case "ReduceL2,Clip,Expand":
                b.Node("ReduceL2", ["x"], ["l2"], OnnxBuilder.Ints("axes", 1)).Node("Clip", ["l2", "eps", string.Empty], ["c"])
                    .Int64Initializer("shape", [1, image[0], image[1], image[2]], [4]).Node("Expand", ["c", "shape"], ["norm"]);
                norm = "norm";
                break;
            case "ReduceSum(x*x),Sqrt,Add":
                b.Int64Initializer("axes", [1], [1]).Node("Mul", ["x", "x"], ["sq"]).Node("ReduceSum", ["sq", "axes"], ["s"]).Node("Sqrt", ["s"], ["q"]).Node("Add", ["q", "eps"], ["norm"]);
                norm = "norm";
                break;
            case "ReduceSumSquare,Sqrt,Max":
                b.Node("ReduceSumSquare", ["x"], ["s"], OnnxBuilder.Ints("axes", 1)).Node("Sqrt", ["s"], ["q"]).Node("Max", ["eps", "q"], ["norm"]);
                norm = "norm";
                break;
            default:
                b.Int64Initializer("axes", [1], [1]).Node("Pow", ["x", "two"], ["sq"]).Node("ReduceSum", ["sq", "axes"], ["s"]).Node("Add", ["s", "eps"], ["se"]).Node("Sqrt", ["se"], ["norm"]);
                norm = "norm";
                break;
        }

        return b.Node("Div", ["x", norm], ["y"]).Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
    }

    private static double[] L2Reference(double[] v, string settings) => settings switch
    {
        "ReduceL2,Clip,Expand" or "ReduceSumSquare,Sqrt,Max" => L2Over(v, i => i % 6, 0, 0, floor: 1e-2),
        "ReduceSum(x*x),Sqrt,Add" => L2Over(v, i => i % 6, 0, 1e-2),
        _ => L2Over(v, i => i % 6, 1e-2, 0),
    };

    /// <summary>y = x/d per group (elements with equal key), d = max(√(Σx² + inner) + outer, floor).</summary>
    private static double[] L2Over(double[] v, Func<int, int> group, double inner, double outer, double floor = 0)
    {
        var sums = new Dictionary<int, double>();
        for (int i = 0; i < v.Length; i++)
        {
            sums[group(i)] = sums.GetValueOrDefault(group(i)) + (v[i] * v[i]);
        }

        return v.Select((a, i) => a / Math.Max(Math.Sqrt(sums[group(i)] + inner) + outer, floor)).ToArray();
    }

    /// <summary>(x − μ)/√(σ² + ε) over <paramref name="groups"/> consecutive equal blocks, then the element-wise affine map.</summary>
    private static double[] Normalise(double[] v, int groups, double epsilon, Func<int, double, double> affine)
    {
        int size = v.Length / groups;
        var y = new double[v.Length];
        for (int g = 0; g < groups; g++)
        {
            double mean = v.Skip(g * size).Take(size).Average();
            double variance = v.Skip(g * size).Take(size).Average(a => (a - mean) * (a - mean));
            for (int i = g * size; i < (g + 1) * size; i++)
            {
                y[i] = affine(i, (v[i] - mean) / Math.Sqrt(variance + epsilon));
            }
        }

        return y;
    }

    private static byte[] GeluPattern(int opset, string form)
    {
        var b = new OnnxBuilder(opset).Input("x", "N", 2, 3, 3).Initializer("one", [1f], []).Initializer("half", [0.5f], []);
        switch (form)
        {
            case "erf-div":
                // torch.onnx: Div(x, √2) → Erf → Add 1 → Mul(x, ·) → Mul ½.
                b.Initializer("s2", [1.4142135f], []).Node("Div", ["x", "s2"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["e", "one"], ["a"])
                    .Node("Mul", ["x", "a"], ["m"]).Node("Mul", ["m", "half"], ["y"]);
                break;
            case "erf-mul-half-first":
                b.Initializer("r2", [0.70710677f], []).Node("Mul", ["r2", "x"], ["d"]).Node("Erf", ["d"], ["e"]).Node("Add", ["one", "e"], ["a"])
                    .Node("Mul", ["half", "x"], ["h"]).Node("Mul", ["a", "h"], ["y"]);
                break;
            case "tanh-mul":
                // torch.onnx, approximate="tanh": x·(x·x), κ·x³, x + ·, β·(·), Tanh, 1 + ·, x·(·), ½·(·).
                b.Initializer("beta", [0.7978846f], []).Initializer("kappa", [0.044715f], [])
                    .Node("Mul", ["x", "x"], ["x2"]).Node("Mul", ["x", "x2"], ["x3"]).Node("Mul", ["kappa", "x3"], ["k3"]).Node("Add", ["x", "k3"], ["s"])
                    .Node("Mul", ["beta", "s"], ["u"]).Node("Tanh", ["u"], ["t"]).Node("Add", ["one", "t"], ["a"]).Node("Mul", ["x", "a"], ["m"]).Node("Mul", ["half", "m"], ["y"]);
                break;
            default:
                b.Initializer("beta", [0.7978846f], []).Initializer("kappa", [0.044715f], []).Initializer("three", [3f], [])
                    .Node("Pow", ["x", "three"], ["x3"]).Node("Mul", ["x3", "kappa"], ["k3"]).Node("Add", ["k3", "x"], ["s"])
                    .Node("Mul", ["s", "beta"], ["u"]).Node("Tanh", ["u"], ["t"]).Node("Add", ["t", "one"], ["a"]).Node("Mul", ["half", "x"], ["h"]).Node("Mul", ["h", "a"], ["y"]);
                break;
        }

        return b.Node("Flatten", ["y"], ["out"]).Output("out").ToBytes();
    }

    /// <summary>erf by the series (|x| &lt; 3) and the asymptotic complement, in float64, independent of the library's.</summary>
    private static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a >= 5)
        {
            return Math.Sign(x);
        }

        double sum = 0, term = a;
        for (int n = 0; n < 200; n++)
        {
            sum += term / ((2 * n) + 1);
            term *= -a * a / (n + 1);
        }

        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
    }
}
