using System.Globalization;
using Clrp.Cli.Evaluation;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>
/// <c>clrp eval</c> end to end on the first scenes of the committed evaluation set with the committed
/// fashion-pair-vgg model: tables, results rows that agree with the library, resume, and bad input.
/// </summary>
[TestClass]
public sealed class EvalCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private string Out(string name = "results.csv") => Path.Combine(_dir, name);

    private static CliRun RunPointingGame(params string[] extra) =>
        CliRun.Of(["eval", "pointing-game", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, .. EvalPaths.PairScaling, .. extra]);

    [TestMethod]
    public void PointingGame_FourScenes_TableOverEveryMethodAndOneRowPerMethodAndScene()
    {
        CliRun run = RunPointingGame("--limit", "4", "--out", Out());

        run.AssertSuccess();
        Assert.AreEqual(string.Empty, run.Stderr, "quick runs print no progress");
        foreach (string method in new[] { "centre point (baseline)", "gradient", "gradient-input", "lrp", "lrp-epsilon-plus", "clrp1", "clrp2", "sglrp" })
        {
            StringAssert.Contains(run.Stdout, $"| {method} | ");
        }

        string[] lines = File.ReadAllLines(Out());
        StringAssert.StartsWith(lines[0], "# clrp eval pointing-game | model fashion-pair-vgg.onnx sha256:");
        Assert.AreEqual(string.Join(',', PointingGameRunner.Columns), lines[1]);
        Assert.HasCount(2 + (7 * 4), lines);
    }

    [TestMethod]
    public void PointingGame_Row_AgreesWithTheLibrarysMapOfEachClass()
    {
        RunPointingGame("--limit", "2", "--methods", "clrp1", "--out", Out()).AssertSuccess();

        SceneSet set = SceneSetReader.Read(EvalPaths.Data, limit: 2);
        var options = new ExplainerOptions { Method = ExplainMethod.Clrp1, Rules = Composites.Composites.Paper(BoxBounds.FromMeanStd([0.1417f], [0.2478f])), Bounds = BoxBounds.FromMeanStd([0.1417f], [0.2478f]) };
        using var explainer = ClrpExplainer.Load(EvalPaths.PairVgg, options);
        string[] row = File.ReadAllLines(Out())[3].Split(',');   // clrp1, scene 1
        Scene scene = set.Scenes[1];
        Tensor x = set.Inputs([scene], new PixelScaling([0.1417f], [0.2478f], IsDatasetMean: true));
        for (int o = 0; o < 2; o++)
        {
            float[] map = explainer.Explain(x, scene.Object(o).Class).HeatmapOf(0);
            (double X, double Y) max = PointingGame.MaxPoint(map, 64)!.Value;
            Assert.AreEqual(max.X, double.Parse(row[4 + (2 * o)], CultureInfo.InvariantCulture), 0, $"object {o}");
            Assert.AreEqual(max.Y, double.Parse(row[5 + (2 * o)], CultureInfo.InvariantCulture), 0, $"object {o}");
            Assert.AreEqual(PointingGame.PositiveMass(map, 64, scene.Object(o)), double.Parse(row[10 + (2 * o)], CultureInfo.InvariantCulture), 1e-6, $"object {o}");
        }
    }

    [TestMethod]
    public void PointingGame_ResumeAfterAPartialCsv_KeepsFinishedRowsAndComputesOnlyTheRest()
    {
        RunPointingGame("--limit", "2", "--methods", "lrp,clrp1", "--out", Out()).AssertSuccess();
        string[] first = File.ReadAllLines(Out());
        // Mark a finished row (a value no run computes) and cut a last row short, as a kill inside a write would.
        string[] marked = first[2].Split(',');
        Assert.AreEqual("lrp", marked[0]);
        marked[10] = "12345";
        first[2] = string.Join(',', marked);
        File.WriteAllText(Out(), string.Join('\n', first) + "\nclrp1,2,3,4,10.5");

        CliRun resumed = RunPointingGame("--limit", "4", "--methods", "lrp,clrp1", "--out", Out());

        resumed.AssertSuccess();
        StringAssert.Contains(resumed.Stderr, "resuming: 4 of 8 (method, scene) rows");
        string[] lines = File.ReadAllLines(Out());
        CollectionAssert.AreEqual(first, lines[..first.Length], "finished rows are kept as they were, not redone");
        Assert.HasCount(2 + 8, lines);
        var keys = lines.Skip(2).Select(l => string.Join(',', l.Split(',')[..2])).ToList();
        CollectionAssert.AllItemsAreUnique(keys);
        Assert.IsFalse(lines.Any(l => l == "clrp1,2,3,4,10.5"), "the torn row is gone");
    }

    [TestMethod]
    public void PointingGame_RerunOfAFinishedFile_ComputesNothing()
    {
        RunPointingGame("--limit", "2", "--methods", "lrp", "--out", Out()).AssertSuccess();
        byte[] before = File.ReadAllBytes(Out());

        CliRun again = RunPointingGame("--limit", "2", "--methods", "lrp", "--out", Out());

        again.AssertSuccess();
        StringAssert.Contains(again.Stderr, "resuming: 2 of 2");
        CollectionAssert.AreEqual(before, File.ReadAllBytes(Out()));
    }

    [TestMethod]
    public void Ablation_FourScenes_WritesCurvesPlotAndTheRandomBaseline()
    {
        string png = Out("curves.png");

        CliRun run = CliRun.Of(["eval", "ablation", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, .. EvalPaths.PairScaling,
            "--limit", "4", "--methods", "lrp,clrp1", "--steps", "3", "--out", Out(), "--plot", png]);

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "| random order (baseline) | ");
        StringAssert.Contains(run.Stdout, "| clrp1 | ");
        string[] lines = File.ReadAllLines(Out());
        Assert.HasCount(2 + (3 * 4), lines);
        Assert.AreEqual(string.Join(',', AblationRunner.Columns(3)), lines[1]);
        using (SKBitmap plot = SKBitmap.Decode(png))
        {
            Assert.AreEqual((900, 520), (plot.Width, plot.Height));
        }

        // The unperturbed logits in the rows are the model's own (this model outputs logits directly).
        SceneSet set = SceneSetReader.Read(EvalPaths.Data, limit: 1);
        using ModelRunner runner = ModelRunner.Open(EvalPaths.PairVgg, Device.Cpu);
        Tensor z = runner.Run(set.Inputs(set.Scenes, new PixelScaling([0.1417f], [0.2478f], IsDatasetMean: true)));
        string[] row = lines[2].Split(',');
        Assert.AreEqual(z.Row(0)[set.Scenes[0].A.Class], double.Parse(row[4], CultureInfo.InvariantCulture), 1e-4);
        Assert.AreEqual(z.Row(0)[set.Scenes[0].B.Class], double.Parse(row[5], CultureInfo.InvariantCulture), 1e-4);
    }

    [TestMethod]
    public void Eval_MissingDataFolder_ExitsTwoInOneLine()
    {
        CliRun.Of("eval", "pointing-game", "--model", EvalPaths.PairVgg, "--data", Path.Combine(_dir, "nope")).AssertBadInput("nope", "does not exist");
    }

    [TestMethod]
    public void Eval_MalformedCsvRow_ExitsTwoNamingTheLine()
    {
        string data = SceneData.Write(Path.Combine(_dir, "d"), 2, 64, SceneData.Header, "0,1,0,0,28,28,2,30,30,58,58", "1,1,0,0,28,28,2,30,30,58");

        CliRun.Of("eval", "ablation", "--model", EvalPaths.PairVgg, "--data", data).AssertBadInput("scenes.csv' line 3", "expected 11");
    }

    [TestMethod]
    public void Eval_UnknownMethod_ExitsTwoListingTheKnownOnes()
    {
        RunPointingGame("--methods", "lrp,magic").AssertBadInput("unknown method 'magic'", "lrp-epsilon-plus");
    }

    [TestMethod]
    public void Eval_OutOfAnotherRun_ExitsTwoAndLeavesItAlone()
    {
        File.WriteAllText(Out(), "# something else\nmethod,scene\n");

        RunPointingGame("--limit", "1", "--out", Out()).AssertBadInput("another run");
        Assert.AreEqual("# something else\nmethod,scene\n", File.ReadAllText(Out()));
    }
}
