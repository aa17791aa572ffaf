using Clrp.Onnx.Explaining;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Parameters computed at run time from an activation's shape (issue 11): ShuffleNetV2's chunk (Shape → Gather → Div → Slice)
/// and <c>view(x.size(0), -1)</c> (Shape → Gather → Unsqueeze → Concat → Reshape) are folded by <c>FoldShapeArithmetic</c> and
/// explained exactly as the same nets written with constants, by both engines; where the spatial axes are open the Slice is
/// refused, naming the node and why.
/// </summary>
[TestClass]
public sealed class ShapeArithmeticTests
{
    private static readonly float[] ConvWeights = Enumerable.Range(0, 16).Select(i => (float)Math.Cos(i * 0.7)).ToArray();
    private static readonly float[] GemmWeights = Enumerable.Range(0, 3 * 36).Select(i => (float)Math.Sin(i * 1.3)).ToArray();

    /// <summary>x [N,4,3,3] → Conv 1×1 → chunk(2, dim 1) → (Relu(a), b) concatenated → flatten → Gemm 36→3.</summary>
    private static byte[] Chunk(bool computed, bool viewFlatten, object height)
    {
        var b = new OnnxBuilder(opset: 13).Input("x", "N", 4L, height, 3L)
            .Initializer("w", ConvWeights, [4, 4, 1, 1])
            .Node("Conv", ["x", "w"], ["c"], "conv")
            .Int64Initializer("axis1", [1], [1])
            .Int64Initializer("zero", [0], [1])
            .Int64Initializer("big", [long.MaxValue], [1]);
        if (computed)
        {
            b.Node("Shape", ["c"], ["shape"], "shape")
                .Int64Initializer("one", [1], [])
                .Node("Gather", ["shape", "one"], ["channels"], "gather", OnnxBuilder.Int("axis", 0))
                .Int64Initializer("two", [2], [])
                .Node("Div", ["channels", "two"], ["half0"], "div")
                .Int64Initializer("unsq", [0], [1])
                .Node("Unsqueeze", ["half0", "unsq"], ["half"], "unsqueeze");
        }
        else
        {
            b.Int64Initializer("half", [2], [1]);
        }

        b.Node("Slice", ["c", "zero", "half", "axis1"], ["a"], "slice_a")
            .Node("Slice", ["c", "half", "big", "axis1"], ["bb"], "slice_b")
            .Node("Relu", ["a"], ["ra"], "relu")
            .Node("Concat", ["ra", "bb"], ["cat"], "concat", OnnxBuilder.Int("axis", 1));
        if (viewFlatten)
        {
            b.Node("Shape", ["cat"], ["cshape"], "cat_shape")
                .Int64Initializer("zero_s", [0], [])
                .Node("Gather", ["cshape", "zero_s"], ["batch"], "batch", OnnxBuilder.Int("axis", 0))
                .Int64Initializer("unsq0", [0], [1])
                .Node("Unsqueeze", ["batch", "unsq0"], ["batch1"], "batch_unsqueeze")
                .Int64Initializer("minus1", [-1], [1])
                .Node("Concat", ["batch1", "minus1"], ["view"], "view_shape", OnnxBuilder.Int("axis", 0))
                .Node("Reshape", ["cat", "view"], ["f"], "view");
        }
        else
        {
            b.Node("Flatten", ["cat"], ["f"], "flatten");
        }

        return b.Initializer("g", GemmWeights, [3, 36])
            .Node("Gemm", ["f", "g"], ["y"], "gemm", OnnxBuilder.Int("transB", 1))
            .Output("y")
            .ToBytes();
    }

    [TestMethod]
    [DataRow(ExplainerEngine.Managed)]
    [DataRow(ExplainerEngine.Compiled)]
    public void ComputedChunkAndView_ExplainAsTheConstantNet(ExplainerEngine engine)
    {
        float[] x = Enumerable.Range(0, 2 * 36).Select(i => (float)Math.Sin(i * 0.37 + 0.2)).ToArray();
        foreach (ExplainMethod method in new[] { ExplainMethod.Lrp, ExplainMethod.Clrp1, ExplainMethod.Gradient })
        {
            var options = new ExplainerOptions { Method = method, Engine = engine, Rules = CompositePresets.Epsilon(1e-6f) };
            Explanation expected = ExplainerHarness.Explain(Chunk(computed: false, viewFlatten: false, 3L), x, [2, 4, 3, 3], options, Target.TopK(2));
            Explanation actual = ExplainerHarness.Explain(Chunk(computed: true, viewFlatten: true, 3L), x, [2, 4, 3, 3], options, Target.TopK(2));
            Compare.Close(actual.Logits.Data, expected.Logits.Data, 1e-6, $"{engine} {method}: logits");
            Compare.Close(actual.Relevance.Data, expected.Relevance.Data, 1e-5, $"{engine} {method}: relevance");
        }

        using var oracle = new OrtOracle(Chunk(computed: true, viewFlatten: true, 3L));
        Explanation e = ExplainerHarness.Explain(Chunk(computed: true, viewFlatten: true, 3L), x, [2, 4, 3, 3], new ExplainerOptions { Engine = engine }, 0);
        Compare.Close(e.Logits.Data, oracle.Run(x, [2, 4, 3, 3]).Data, 1e-5, $"{engine}: logits vs ONNX Runtime on the original file");
    }

    [TestMethod]
    public void ComputedChunk_OpenSpatialAxes_RefusedNamingTheSliceAndWhy()
    {
        string path = ExplainerHarness.Save(Chunk(computed: true, viewFlatten: false, "H"));
        ModelReport report = ClrpExplainer.Inspect(path);
        NodeReport[] refused = report.Nodes.Where(n => !n.Supported).ToArray();
        CollectionAssert.AreEquivalent(new[] { "slice_a", "slice_b" }, refused.Select(n => n.Node.Name).ToArray());
        StringAssert.Contains(refused[0].Role, "input axes the model leaves open");

        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(path));
        Assert.AreEqual("slice_a", e.NodeName);
    }
}
