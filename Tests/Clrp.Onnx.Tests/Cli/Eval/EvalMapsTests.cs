using Clrp.Cli.Evaluation;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary><c>clrp eval … --maps DIR</c>: the scored maps as .npy, one file per method and scene, equal to the library's maps.</summary>
[TestClass]
public sealed class EvalMapsTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void PointingGame_Maps_OneFilePerMethodAndSceneEqualToTheLibrarysMaps()
    {
        string maps = Path.Combine(_dir, "maps");
        CliRun.Of(["eval", "pointing-game", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, .. EvalPaths.PairScaling, "--limit", "2", "--methods", "gradient,clrp1", "--maps", maps])
            .AssertSuccess();

        CollectionAssert.AreEquivalent(new[] { "clrp1", "gradient" }, Directory.GetDirectories(maps).Select(Path.GetFileName).ToArray());
        SceneSet set = SceneSetReader.Read(EvalPaths.Data, limit: 2);
        var bounds = BoxBounds.FromMeanStd([0.1417f], [0.2478f]);
        foreach ((string name, ExplainMethod method) in new[] { ("clrp1", ExplainMethod.Clrp1), ("gradient", ExplainMethod.Gradient) })
        {
            using var explainer = ClrpExplainer.Load(EvalPaths.PairVgg, new ExplainerOptions { Method = method, Rules = Composites.Composites.Paper(bounds), Bounds = bounds });
            foreach (Scene scene in set.Scenes)
            {
                Tensor written = NpyFile.Read(MapFolder.FileOf(maps, name, scene.Index));
                CollectionAssert.AreEqual(new[] { 2, 64, 64 }, written.Shape, $"{name} scene {scene.Index}: shape");
                Tensor x = set.Inputs([scene], new PixelScaling([0.1417f], [0.2478f], IsDatasetMean: true));
                for (int o = 0; o < 2; o++)
                {
                    float[] map = explainer.Explain(x, scene.Object(o).Class).HeatmapOf(0);
                    float[] expected = method == ExplainMethod.Gradient ? [.. map.Select(Math.Abs)] : map; // the gradient is scored as |∂z/∂x|
                    Compare.Close(written.Data.AsSpan(o * 4096, 4096), expected, 1e-5, $"{name} scene {scene.Index} object {o}");
                }
            }
        }
    }

    [TestMethod]
    public void Ablation_Maps_WrittenForMethodsNotForTheRandomOrder()
    {
        string maps = Path.Combine(_dir, "maps");
        CliRun.Of(["eval", "ablation", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, .. EvalPaths.PairScaling, "--limit", "1", "--methods", "lrp", "--steps", "2", "--maps", maps])
            .AssertSuccess();

        Assert.IsTrue(File.Exists(MapFolder.FileOf(maps, "lrp", 0)), "lrp's map of scene 0");
        Assert.IsFalse(Directory.Exists(Path.Combine(maps, AblationRunner.RandomName)), "the random order has no map");
    }

    [TestMethod]
    public void Eval_MapsIsAFile_ExitsTwoNamingIt()
    {
        string file = Path.Combine(_dir, "taken");
        File.WriteAllText(file, "x");

        CliRun.Of(["eval", "pointing-game", "--model", EvalPaths.PairVgg, "--data", EvalPaths.Data, "--limit", "1", "--maps", file]).AssertBadInput("--maps", "is a file");
    }
}
