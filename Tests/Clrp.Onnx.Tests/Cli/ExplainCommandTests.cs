using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>
/// <c>clrp explain</c> end to end on the committed fashion-vgg model: the written maps equal what the library
/// gives for the same input and options, shapes follow DESIGN.md §3, and heatmaps decode at the enlarged size.
/// </summary>
[TestClass]
public sealed class ExplainCommandTests
{
    private const float FashionMean = 0.2860f, FashionStd = 0.3530f;

    private static string AnkleBoot => TestPaths.Model(Path.Combine("samples", "fashion-test-0000-ankle-boot.png"));

    private static string ReferenceInput => TestPaths.Fixture("reference", "input.npy");

    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Explain_NpyWithLowHigh_WritesTheLibrarysMapAsChwAndA224Heatmap()
    {
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", ReferenceInput,
            "--low", "-0.8102", "--high", "2.0227", "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        Tensor written = NpyFile.Read(npy);
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, written.Shape);
        var options = new ExplainerOptions { Rules = Composites.Composites.Paper(new BoxBounds([-0.8102f], [2.0227f])) };
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, options);
        Explanation expected = explainer.Explain(NpyFile.Read(ReferenceInput));
        AssertSameMap(expected.Relevance.Data, written.Data);
        AssertPngSize(png, 224, 224);
        StringAssert.Contains(run.Stdout, $"class {expected.TargetClass}");
        StringAssert.Contains(run.Stdout, "clrp1");
        Assert.AreEqual(string.Empty, run.Stderr);
    }

    [TestMethod]
    public void Explain_PngWithMeanStd_NormalisesPixelsAndMatchesTheLibrary()
    {
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", AnkleBoot,
            "--mean", "0.2860", "--std", "0.3530", "--method", "lrp", "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        LoadedImage image = ImageLoader.Load(AnkleBoot, 28, 28, 1, [FashionMean], [FashionStd]);
        var options = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.Paper(BoxBounds.FromMeanStd([FashionMean], [FashionStd])) };
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, options);
        Explanation expected = explainer.Explain(image.Tensor);
        Assert.AreEqual(9, expected.TargetClass, "the sample is an ankle boot (class 9)");
        Tensor written = NpyFile.Read(npy);
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, written.Shape);
        AssertSameMap(expected.Relevance.Data, written.Data);
        AssertPngSize(png, 224, 224);
        StringAssert.Contains(run.Stdout, "class 9");
        StringAssert.Contains(run.Stdout, "ΣR_in");
    }

    [TestMethod]
    public void Explain_PngWithoutOptions_UsesPixelRangeBoundsAndPrintsSummary()
    {
        string npy = Path.Combine(_dir, "r.npy");

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", AnkleBoot, "--out", npy);

        run.AssertSuccess();
        LoadedImage image = ImageLoader.Load(AnkleBoot, 28, 28, 1);
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Bounds = new BoxBounds([0f], [1f]) });
        AssertSameMap(explainer.Explain(image.Tensor).Relevance.Data, NpyFile.Read(npy).Data);
        foreach (string expected in new[] { "model:", "input:", "[1,1,28,28]", "provider:  CPU", "method:    clrp1, rules paper", "wrote:" })
        {
            StringAssert.Contains(run.Stdout, expected);
        }
    }

    [TestMethod]
    public void Explain_TopK3_WritesNkChwAndAThreePanelGrid()
    {
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", ReferenceInput, "--top-k", "3",
            "--method", "sglrp", "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        Tensor written = NpyFile.Read(npy);
        CollectionAssert.AreEqual(new[] { 1, 3, 1, 28, 28 }, written.Shape);
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Method = ExplainMethod.Sglrp });
        Explanation expected = explainer.Explain(NpyFile.Read(ReferenceInput), Target.TopK(3));
        AssertSameMap(expected.Relevance.Data, written.Data);
        using SKBitmap grid = SKBitmap.Decode(png);
        Assert.IsGreaterThanOrEqualTo(3 * 224, grid.Width);
        Assert.IsGreaterThanOrEqualTo(224, grid.Height);
        foreach (int cls in expected.TargetClasses)
        {
            StringAssert.Contains(run.Stdout, $"class {cls}");
        }
    }

    [TestMethod]
    public void Explain_BatchedNpy_WritesNkChw()
    {
        Tensor one = NpyFile.Read(ReferenceInput);
        var batch = new Tensor([.. one.Data, .. one.Data.Select(v => -v)], [2, 1, 28, 28]);
        string input = Path.Combine(_dir, "batch.npy"), npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");
        NpyFile.Write(input, batch);

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--target", "3",
            "--method", "gradient", "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        CollectionAssert.AreEqual(new[] { 2, 1, 1, 28, 28 }, NpyFile.Read(npy).Shape);
        StringAssert.Contains(run.Stdout, "image 1, class 3");
        using SKBitmap grid = SKBitmap.Decode(png);
        Assert.IsGreaterThanOrEqualTo(2 * 224, grid.Height);
    }

    [TestMethod]
    public void Explain_ChwNpyWithTargetAndRules_HonoursEveryOption()
    {
        Tensor chw = NpyFile.Read(ReferenceInput).Reshape(1, 28, 28);
        string input = Path.Combine(_dir, "chw.npy"), npy = Path.Combine(_dir, "r.npy");
        NpyFile.Write(input, chw);

        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", input, "--target", "7",
            "--method", "clrp1", "--rules", "epsilon-gamma-box", "--gamma", "0.5", "--epsilon", "1e-5",
            "--low", "-0.8102", "--high", "2.0227", "--dual-seed", "logits", "--device", "cpu", "--out", npy);

        run.AssertSuccess();
        var bounds = new BoxBounds([-0.8102f], [2.0227f]);
        var options = new ExplainerOptions
        {
            Rules = Composites.Composites.EpsilonGammaBox(bounds, gamma: 0.5f, epsilon: 1e-5f),
            Bounds = bounds,
            DualSeed = DualSeed.PerClassLogit,
        };
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, options);
        AssertSameMap(explainer.Explain(chw, 7).Relevance.Data, NpyFile.Read(npy).Data);
        StringAssert.Contains(run.Stdout, "class 7");
        StringAssert.Contains(run.Stdout, "dual seed logits");
    }

    [TestMethod]
    public void Explain_NegativeNumbersAsSeparateArguments_Parse()
    {
        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", ReferenceInput, "--low", "-0.8102", "--high", "2.0227", "--method", "lrp");

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "-0.8102");
    }

    [TestMethod]
    public void Explain_Clrp2WithEpsilonRules_WarnsOnStderrWithPrefix()
    {
        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", ReferenceInput, "--method", "clrp2", "--rules", "epsilon");

        run.AssertSuccess();
        Assert.HasCount(1, run.StderrLines);
        StringAssert.StartsWith(run.StderrLines[0], "clrp: warning: ");
    }

    [TestMethod]
    public void Help_Explain_ListsEveryOptionWithDefaults()
    {
        CliRun run = CliRun.Of("explain", "--help");

        run.AssertSuccess();
        foreach (string option in new[] { "--model", "--input", "--target", "--top-k", "--method", "--rules", "--low", "--high", "--mean", "--std", "--dual-seed", "--epsilon", "--gamma", "--output", "--size", "--out", "--heatmap", "--device" })
        {
            StringAssert.Contains(run.Stdout, option);
        }

        StringAssert.Contains(run.Stdout, "[default: clrp1]");
        StringAssert.Contains(run.Stdout, "[default: paper]");
    }

    /// <summary>The CLI writes the library's numbers: equal up to float summation order.</summary>
    private static void AssertSameMap(float[] expected, float[] actual)
    {
        double error = Compare.RelativeL2(actual, expected);
        Assert.IsLessThanOrEqualTo(1e-6, error, $"relative L2 difference {error:E2}");
    }

    private static void AssertPngSize(string path, int width, int height)
    {
        using SKBitmap bitmap = SKBitmap.Decode(path);
        Assert.IsNotNull(bitmap, $"{path} is not a decodable picture");
        Assert.AreEqual((width, height), (bitmap.Width, bitmap.Height));
    }
}
