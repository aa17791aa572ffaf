using Clrp.Cli;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// A run writes all of its outputs or none (issue 12, item 3): <c>--out</c> used to be written before a heatmap that
/// then failed. Files that existed before a failed run keep their content, and no temporary file is left behind.
/// </summary>
[TestClass]
public sealed class AllOrNothingOutputTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Explain_HeatmapImpossible_WritesNeitherFile()
    {
        // A [1,4] input has no picture to draw: the heatmap fails after the map was computed.
        string model = DenseModel(_dir), input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new Tensor([0.1f, 0.2f, 0.3f, 0.4f], [1, 4]));
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");

        CliRun.Of("explain", "--model", model, "--input", input, "--out", npy, "--heatmap", png).AssertBadInput("--heatmap");

        CollectionAssert.AreEquivalent(new[] { "model.onnx", "x.npy" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void Explain_HeatmapImpossible_KeepsTheFilesOfAnEarlierRun()
    {
        string model = DenseModel(_dir), input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new Tensor([0.1f, 0.2f, 0.3f, 0.4f], [1, 4]));
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");
        File.WriteAllText(npy, "earlier map");
        File.WriteAllText(png, "earlier picture");

        CliRun.Of("explain", "--model", model, "--input", input, "--out", npy, "--heatmap", png).AssertBadInput("--heatmap");

        Assert.AreEqual("earlier map", File.ReadAllText(npy));
        Assert.AreEqual("earlier picture", File.ReadAllText(png));
        Assert.HasCount(4, Directory.GetFiles(_dir));
    }

    [TestMethod]
    public void Explain_ExtremeAspectRatio_WritesBothFiles()
    {
        // x [N,1,1,100000] → 1×1 Conv → GlobalAveragePool → Flatten: a 1×100000 map, which the heatmap used to enlarge
        // 224-fold (20 GB) and fail on after --out was written.
        const int width = 100_000;
        string model = new OnnxBuilder(13).Input("x", "N", 1L, 1L, (long)width).Initializer("w", [0.5f, -0.25f], [2, 1, 1, 1])
            .Node("Conv", ["x", "w"], ["c"]).Node("GlobalAveragePool", ["c"], ["p"]).Node("Flatten", ["p"], ["y"]).Output("y")
            .Save(Path.Combine(_dir, "wide.onnx"));
        string input = Path.Combine(_dir, "x.npy");
        NpyFile.Write(input, new Tensor(Enumerable.Range(0, width).Select(i => (i % 17) / 17f).ToArray(), [1, 1, 1, width]));
        string npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");

        CliRun.Of("explain", "--model", model, "--input", input, "--method", "lrp", "--out", npy, "--heatmap", png).AssertSuccess();

        CollectionAssert.AreEqual(new[] { 1, 1, width }, NpyFile.Read(npy).Shape);
        using SkiaSharp.SKCodec codec = SkiaSharp.SKCodec.Create(png);
        Assert.AreEqual(new SkiaSharp.SKSizeI(width, 1), codec.Info.Size);
    }

    [TestMethod]
    public void OutputSet_RenameFailsHalfway_RestoresWhatWasThere()
    {
        string first = Path.Combine(_dir, "a.npy"), second = Path.Combine(_dir, "b.png");
        File.WriteAllText(first, "old a");
        using (var outputs = new OutputSet())
        {
            outputs.Stage(first, temp => File.WriteAllText(temp, "new a"));
            outputs.Stage(second, temp => File.WriteAllText(temp, "new b"));
            // The second target turns into a non-empty folder before the commit: its rename must fail.
            Directory.CreateDirectory(second);
            File.WriteAllText(Path.Combine(second, "keep"), "x");

            Assert.ThrowsExactly<InvalidOptionsException>(outputs.Commit);
        }

        Assert.AreEqual("old a", File.ReadAllText(first));
        Assert.IsTrue(Directory.Exists(second));
        CollectionAssert.AreEquivalent(new[] { "a.npy" }, Directory.GetFiles(_dir).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void OutputSet_NotCommitted_LeavesNoFile()
    {
        using (var outputs = new OutputSet())
        {
            outputs.Stage(Path.Combine(_dir, "a.npy"), temp => File.WriteAllText(temp, "a"));
        }

        Assert.IsEmpty(Directory.GetFileSystemEntries(_dir));
    }

    /// <summary>x [N,4] → Gemm (3 classes): explainable, but not a picture.</summary>
    private static string DenseModel(string dir)
    {
        float[] w = [.. Enumerable.Range(0, 12).Select(i => ((i % 5) - 2) / 4f)];
        return new OnnxBuilder(13).Input("x", "N", 4L).Initializer("w", w, [3, 4])
            .Node("Gemm", ["x", "w"], ["y"], OnnxBuilder.Int("transB", 1)).Output("y").Save(Path.Combine(dir, "model.onnx"));
    }
}
