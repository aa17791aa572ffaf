using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>Output files in folders that do not exist yet (the README's run command on a fresh checkout).</summary>
[TestClass]
public sealed class OutputFolderTests
{
    [TestMethod]
    public void Explain_OutAndHeatmapInMissingFolder_CreatesTheFolder()
    {
        string dir = Path.Combine(TestPaths.TempDir(), "not", "there", "yet");
        string npy = Path.Combine(dir, "relevance.npy"), png = Path.Combine(dir, "heatmap.png");
        CliRun run = CliRun.Of("explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Model("samples/fashion-test-0000-ankle-boot.png"),
            "--mean", "0.2860", "--std", "0.3530", "--out", npy, "--heatmap", png);
        run.AssertSuccess();
        CollectionAssert.AreEqual(new[] { 1, 28, 28 }, Clrp.Onnx.Tensors.NpyFile.Read(npy).Shape);
        Assert.IsTrue(new FileInfo(png).Length > 0, "heatmap written");
    }
}
