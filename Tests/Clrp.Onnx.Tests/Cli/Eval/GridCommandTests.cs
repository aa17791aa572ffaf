using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary><c>clrp grid</c> on the committed face crop, and the forward-only logits runner behind the ablation.</summary>
[TestClass]
public sealed class GridCommandTests
{
    private const string Emotions = "angry,disgust,fear,happy,sad,surprise,neutral";
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Grid_AstronautTop2_RowsHappyThenNeutral_FiveColumnsOf256()
    {
        string png = Path.Combine(_dir, "grid.png");

        CliRun run = CliRun.Of("grid", "--model", EvalPaths.Emotion, "--inputs", EvalPaths.Face("astronaut-64.png"),
            "--mean", "0.5", "--std", "0.5", "--labels", Emotions, "--out", png);

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "astronaut-64: #1 happy");
        StringAssert.Contains(run.Stdout, "astronaut-64: #2 neutral");
        StringAssert.Contains(run.Stdout, "2 rows × 5 columns");
        using SKBitmap grid = SKBitmap.Decode(png);
        Assert.IsGreaterThan(5 * 256, grid.Width, "five 256-pixel panels and the row labels");
        Assert.IsGreaterThan(2 * 256, grid.Height);
    }

    [TestMethod]
    public void Grid_LabelsOfTheWrongCount_ExitsTwo()
    {
        CliRun.Of("grid", "--model", EvalPaths.Emotion, "--inputs", EvalPaths.Face("astronaut-64.png"), "--labels", "a,b", "--out", Path.Combine(_dir, "g.png"))
            .AssertBadInput("--labels gives 2 names", "7 classes");
    }

    [TestMethod]
    public void Grid_MissingInput_ExitsTwo()
    {
        CliRun.Of("grid", "--model", EvalPaths.Emotion, "--inputs", Path.Combine(_dir, "none.png"), "--out", Path.Combine(_dir, "g.png")).AssertBadInput("none.png");
    }

    [TestMethod]
    public void ValueRunner_LogitsBeforeTheSoftmax_EqualTheExplainersLogits()
    {
        Tensor x = NpyFile.Read(EvalPaths.Face("astronaut-64.npy"));
        using var explainer = ClrpExplainer.Load(EvalPaths.Emotion, new ExplainerOptions { Method = ExplainMethod.Gradient });
        using ValueRunner runner = ValueRunner.Open(EvalPaths.Emotion, explainer.LogitsName, Device.Cpu);

        Tensor z = runner.Run(x);

        // Another graph (one extra output instead of many) may let ONNX Runtime order its sums differently: 1e-5, not bit equality.
        float[] expected = explainer.Explain(x).Logits.Data;
        Assert.HasCount(expected.Length, z.Data);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(expected[i], z.Data[i], 1e-5, $"logit {i}");
        }

        Assert.ThrowsExactly<InvalidGraphException>(() => ValueRunner.Open(EvalPaths.Emotion, "no-such-value", Device.Cpu));
    }
}
