using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Issue 11's operators — Sum, Tile, DepthToSpace, SpaceToDepth, Softsign, Mish — and folded shape arithmetic (a Reshape to
/// view(x.size(0), -1)) in one small net; and Gelu (op and exporter patterns), LayerNormalization (op and decomposed),
/// InstanceNormalization, GroupNormalization, Softplus and an L2 normalisation in another: the compiled engine equals the managed
/// walk for every method and composite.
/// </summary>
[TestClass]
public sealed class NewOpsParityTests
{
    public TestContext TestContext { get; set; } = null!;

    private static float[] Weights(int count, double phase) => Enumerable.Range(0, count).Select(i => (float)(0.4 * Math.Sin((i * 0.91) + phase))).ToArray();

    /// <summary>x [N,2,4,4] → Conv 3×3 (8) → Mish → DepthToSpace 2 → SpaceToDepth 2 → Softsign; Sum(that, Relu(conv), Mish) → Tile ×2 on W → view(N, -1) → Gemm 256→5.</summary>
    private static byte[] Model() => new OnnxBuilder(opset: 18).Input("x", "N", 2L, 4L, 4L)
        .Initializer("w", Weights(8 * 2 * 9, 0.3), [8, 2, 3, 3])
        .Initializer("bias", Weights(8, 1.7), [8])
        .Node("Conv", ["x", "w", "bias"], ["c"], "conv", OnnxBuilder.Ints("pads", 1, 1, 1, 1))
        .Node("Mish", ["c"], ["m"], "mish")
        .Node("DepthToSpace", ["m"], ["d"], "d2s", OnnxBuilder.Int("blocksize", 2), OnnxBuilder.String("mode", "CRD"))
        .Node("SpaceToDepth", ["d"], ["s"], "s2d", OnnxBuilder.Int("blocksize", 2))
        .Node("Softsign", ["s"], ["ss"], "softsign")
        .Node("Relu", ["c"], ["r"], "relu")
        .Node("Sum", ["ss", "r", "m"], ["sum"], "sum")
        .Int64Initializer("repeats", [1, 1, 1, 2], [4])
        .Node("Tile", ["sum", "repeats"], ["t"], "tile")
        .Node("Shape", ["t"], ["shape"], "shape")
        .Int64Initializer("zero", [0], [])
        .Node("Gather", ["shape", "zero"], ["n"], "gather", OnnxBuilder.Int("axis", 0))
        .Int64Initializer("axes", [0], [1])
        .Node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze")
        .Int64Initializer("rest", [-1], [1])
        .Node("Concat", ["n1", "rest"], ["view"], "view_shape", OnnxBuilder.Int("axis", 0))
        .Node("Reshape", ["t", "view"], ["f"], "view")
        .Initializer("g", Weights(5 * 256, 2.9), [5, 256])
        .Initializer("gb", Weights(5, 0.1), [5])
        .Node("Gemm", ["f", "g", "gb"], ["y"], "gemm", OnnxBuilder.Int("transB", 1))
        .Output("y")
        .ToBytes();

    /// <summary>
    /// x [N,2,4,4] → Conv 3×3 (6) → GELU (Erf pattern) → LayerNormalization over [C,H,W] → InstanceNormalization → Gelu (op, tanh)
    /// → GroupNormalization (3 groups) → GELU (tanh pattern) → LayerNorm decomposed over W, × γ + β → Softplus → x / max(‖x‖₂, ε)
    /// over channels (ReduceL2, Max) → Flatten → Gemm 96→4. Opset 21.
    /// </summary>
    private static byte[] NormalisationModel()
    {
        var b = new OnnxBuilder(opset: 21).Input("x", "N", 2L, 4L, 4L)
            .Initializer("w", Weights(6 * 2 * 9, 0.7), [6, 2, 3, 3]).Initializer("bias", Weights(6, 2.1), [6])
            .Initializer("one", [1f], []).Initializer("half", [0.5f], []).Initializer("s2", [1.4142135f], []).Initializer("two", [2f], [])
            .Initializer("beta", [0.7978846f], []).Initializer("kappa", [0.044715f], []).Initializer("eps", [1e-5f], []).Initializer("floor", [1e-3f], [])
            .Initializer("lng", Weights(96, 0.2).Select(v => 1 + v).ToArray(), [6, 4, 4]).Initializer("lnb", Weights(96, 1.1), [6, 4, 4])
            .Initializer("ing", Weights(6, 0.5).Select(v => 1 + v).ToArray(), [6]).Initializer("inb", Weights(6, 0.9), [6])
            .Initializer("gng", Weights(6, 1.5).Select(v => 1 + v).ToArray(), [6]).Initializer("gnb", Weights(6, 2.5), [6])
            .Initializer("dg", [0.9f, 1.2f, 0.7f, 1.1f], [4]).Initializer("db", [0.1f, -0.05f, 0.2f, 0f], [4])
            .Int64Initializer("last", [-1], [1]).Int64Initializer("channels", [1], [1])
            .Node("Conv", ["x", "w", "bias"], ["c"], "conv", OnnxBuilder.Ints("pads", 1, 1, 1, 1))
            .Node("Div", ["c", "s2"], ["e0"], "erf_div").Node("Erf", ["e0"], ["e1"], "erf").Node("Add", ["e1", "one"], ["e2"], "erf_add")
            .Node("Mul", ["c", "e2"], ["e3"], "erf_mul").Node("Mul", ["e3", "half"], ["g1"], "erf_half")
            .Node("LayerNormalization", ["g1", "lng", "lnb"], ["ln"], "ln", OnnxBuilder.Int("axis", 1))
            .Node("InstanceNormalization", ["ln", "ing", "inb"], ["in"], "in")
            .Node("Gelu", ["in"], ["g2"], "gelu", OnnxBuilder.String("approximate", "tanh"))
            .Node("GroupNormalization", ["g2", "gng", "gnb"], ["gn"], "gn", OnnxBuilder.Int("num_groups", 3))
            .Node("Mul", ["gn", "gn"], ["t0"], "t_sq").Node("Mul", ["gn", "t0"], ["t1"], "t_cube").Node("Mul", ["kappa", "t1"], ["t2"], "t_kappa")
            .Node("Add", ["gn", "t2"], ["t3"], "t_add").Node("Mul", ["beta", "t3"], ["t4"], "t_beta").Node("Tanh", ["t4"], ["t5"], "tanh")
            .Node("Add", ["one", "t5"], ["t6"], "t_one").Node("Mul", ["gn", "t6"], ["t7"], "t_mul").Node("Mul", ["half", "t7"], ["g3"], "t_half")
            .Node("ReduceMean", ["g3", "last"], ["m"], "ln_mean").Node("Sub", ["g3", "m"], ["d"], "ln_sub").Node("Pow", ["d", "two"], ["d2"], "ln_pow")
            .Node("ReduceMean", ["d2", "last"], ["v"], "ln_var").Node("Add", ["v", "eps"], ["ve"], "ln_eps").Node("Sqrt", ["ve"], ["sd"], "ln_sqrt")
            .Node("Div", ["d", "sd"], ["n"], "ln_div").Node("Mul", ["n", "dg"], ["ng"], "ln_gamma").Node("Add", ["ng", "db"], ["nb"], "ln_beta")
            .Node("Softplus", ["nb"], ["sp"], "softplus")
            .Node("ReduceL2", ["sp", "channels"], ["l2"], "l2").Node("Max", ["l2", "floor"], ["l2f"], "l2_floor").Node("Div", ["sp", "l2f"], ["u"], "l2_div")
            .Node("Flatten", ["u"], ["f"], "flatten")
            .Initializer("g", Weights(4 * 96, 3.3), [4, 96]).Initializer("gb", Weights(4, 0.4), [4])
            .Node("Gemm", ["f", "g", "gb"], ["y"], "gemm", OnnxBuilder.Int("transB", 1));
        return b.Output("y").ToBytes();
    }

    [TestMethod]
    public void Compiled_equals_managed_on_the_normalisations_and_gelu()
    {
        string path = ExplainerHarness.Save(NormalisationModel());
        ModelReport report = ClrpExplainer.Inspect(path, new ExplainerOptions());
        Assert.IsTrue(report.IsSupported, "every node explained");
        foreach (string fused in new[] { "erf_half (Mul): propagates (rewritten as Gelu)", "t_half (Mul): propagates (rewritten as Gelu)", "ln_div (Div): propagates (rewritten as LayerNormalization)", "l2_div (Div): propagates (rewritten as L2Normalize)" })
        {
            Assert.IsTrue(report.Nodes.Any(n => $"{n.Node.Name} ({n.Node.OpType}): {n.Role}" == fused), $"missing: {fused}");
        }

        Tensor input = ParityHarness.RandomInput(13, 2, 2, 4, 4);
        foreach (string line in ParityHarness.AssertParity(path, input, "issue-11 normalisations"))
        {
            TestContext.WriteLine(line);
        }
    }

    [TestMethod]
    public void Compiled_equals_managed_on_the_new_operators()
    {
        string path = ExplainerHarness.Save(Model());
        Tensor input = ParityHarness.RandomInput(11, 2, 2, 4, 4);
        // paper-zplus-sums too: Sum shares by z⁺ there, as Add does.
        foreach (string line in ParityHarness.AssertParity(path, input, "issue-11 ops", [.. ParityHarness.GridComposites, "paper-zplus-sums"]))
        {
            TestContext.WriteLine(line);
        }
    }
}
