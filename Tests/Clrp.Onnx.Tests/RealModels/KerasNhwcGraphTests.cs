using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using static Clrp.Onnx.Tests.RealModels.RealModelHarness;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>
/// A Keras-style NHWC graph as tf2onnx writes it (<c>models/keras_nhwc_mobilenet.onnx</c>, built by
/// <c>scripts/models/build_keras_nhwc_graph.py</c>): Transpose NHWC→NCHW at the input, convolutions with auto_pad
/// SAME_UPPER, ReLU6 as Clip, a depthwise convolution, Transpose back and ReduceMean over H,W, MatMul+Add dense layers and a
/// final Softmax. Every node supported, the forward equal to ONNX Runtime's (1e-5), CLRP1 finite with the relevance in the
/// input's own NHWC layout, the absorbed amount reported, and compiled = managed for every method and composite.
/// </summary>
[TestClass]
public sealed class KerasNhwcGraphTests
{
    private const string File = "keras_nhwc_mobilenet.onnx";

    /// <summary>SHA-256 of the committed file (models/README.md lists the same).</summary>
    private const string Hash = "01be4b0a3e842b40440335202ab5767c720adf03b8946af1b1533b2ada2b919e";

    public TestContext TestContext { get; set; } = null!;

    private static Tensor Input() => NormalInput(2024, 1, 32, 32, 3);

    [TestMethod]
    public void Keras_nhwc_graph_explains_end_to_end()
    {
        string path = TestPaths.Model(File);
        Assert.AreEqual(Hash, Sha256(path), $"{File}: SHA-256 differs from models/README.md");
        AssertEveryNodeSupported(path, Paper(), $"{File} (paper)");
        AssertEveryNodeSupported(path, EpsilonPlus(), $"{File} (epsilon-plus)");
        Tensor input = Input();

        (RealModelFigures figures, Explanation paper) = Measure(File, path, Paper(), input, Target.Predicted);
        TestContext.WriteLine(figures.ToString());
        TestContext.WriteLine($"{File}: paper CLRP1: {Describe(paper)}");
        AssertLogitsMatchOrt(path, input, paper, outputIsSoftmax: true, 1e-5, File);
        CollectionAssert.AreEqual(new[] { 32, 32, 3 }, paper.Relevance.Shape[^3..], "relevance in the input's NHWC layout");
        // Biases and the ReLU6 cap leave units alive through their bias alone: z⁺ absorbs part of the seed (reported, bounded).
        AssertAbsorbedWithin(paper, 0.5, 1.5, $"{File} (paper)");

        Explanation eps = ExplainFinite(path, EpsilonPlus(), input, Target.Predicted, $"{File} (epsilon-plus)");
        AbsorbedAmounts(eps, $"{File} (epsilon-plus)");
        TestContext.WriteLine($"{File}: epsilon-plus CLRP1: {Describe(eps)}");
    }

    /// <summary>The heatmap of a channels-last input sums its last axis (C), in both engines and in the CLI's picture.</summary>
    [TestMethod]
    public void Heatmap_of_the_nhwc_input_sums_its_channels()
    {
        Tensor input = Input();
        foreach (ExplainerEngine engine in new[] { ExplainerEngine.Managed, ExplainerEngine.Compiled })
        {
            using var explainer = ClrpExplainer.Load(TestPaths.Model(File), new ExplainerOptions { Engine = engine, Method = ExplainMethod.Lrp });
            Explanation e = explainer.Explain(input, Target.TopK(2));
            CollectionAssert.AreEqual(new[] { 1, 2, 32, 32 }, e.Heatmap.Shape, $"{engine}: heatmap [N,k,H,W]");
            double[] expected = Enumerable.Range(0, 2 * 32 * 32).Select(p => Enumerable.Range(0, 3).Sum(c => (double)e.Relevance.Data[(p * 3) + c])).ToArray();
            Compare.Close(e.Heatmap.Data, expected, 1e-5, $"{engine}: heatmap = relevance summed over the last (channel) axis");
        }

        string dir = TestPaths.TempDir();
        try
        {
            string npy = Path.Combine(dir, "x.npy"), png = Path.Combine(dir, "h.png");
            NpyFile.Write(npy, input.Reshape(32, 32, 3));
            Cli.CliRun run = Cli.CliRun.Of("explain", "--model", TestPaths.Model(File), "--input", npy, "--heatmap", png);
            run.AssertSuccess();
            using SkiaSharp.SKBitmap picture = SkiaSharp.SKBitmap.Decode(png);
            Assert.AreEqual(224, picture.Width, "a 32×32 map enlarged to 224");
            Assert.AreEqual(224, picture.Height, "a 32×32 map enlarged to 224");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Compiled_equals_managed_on_the_keras_nhwc_graph()
    {
        foreach (string line in ParityHarness.AssertParity(TestPaths.Model(File), Input(), File))
        {
            TestContext.WriteLine(line);
        }
    }
}
