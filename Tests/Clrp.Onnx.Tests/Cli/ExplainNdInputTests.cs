using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>
/// <c>clrp explain</c> on 1-D ([N,C,L]) and 3-D ([N,C,D,H,W]) models with .npy inputs: the relevance .npy has the input's
/// shape ([C,L], [C,D,H,W]) and equals the library's; a 1-D map's heatmap is a strip (8:1, enlarged); a 3-D map's heatmap is
/// refused with exit code 2 and one line saying to use --out, and nothing is written.
/// </summary>
[TestClass]
public sealed class ExplainNdInputTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Explain_1d_npy_writes_CL_relevance_and_a_strip_heatmap()
    {
        string model = Path.Combine(_dir, "ecg.onnx"), input = Path.Combine(_dir, "x.npy"), npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");
        File.WriteAllBytes(model, ConvNdParityTests.OneD());
        Tensor x = ParityHarness.RandomInput(3, 1, 2, 16).Reshape(2, 16);
        NpyFile.Write(input, x);

        CliRun run = CliRun.Of("explain", "--model", model, "--input", input, "--method", "lrp", "--out", npy, "--heatmap", png);

        run.AssertSuccess();
        Tensor written = NpyFile.Read(npy);
        CollectionAssert.AreEqual(new[] { 2, 16 }, written.Shape);
        using var explainer = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp });
        Explanation expected = explainer.Explain(x.Reshape(1, 2, 16));
        Compare.Close(written.Data, expected.Relevance.Data, 1e-6, "1-D relevance .npy vs the library");
        using SKBitmap strip = SKBitmap.Decode(png);
        Assert.AreEqual(224, strip.Height, "strip height: 2 rows enlarged to 224");
        Assert.AreEqual(16 * 112, strip.Width, "strip width: 16 samples enlarged ×112");
    }

    [TestMethod]
    public void Explain_3d_npy_writes_CDHW_relevance_and_refuses_a_heatmap()
    {
        string model = Path.Combine(_dir, "volume.onnx"), input = Path.Combine(_dir, "x.npy"), npy = Path.Combine(_dir, "r.npy"), png = Path.Combine(_dir, "h.png");
        File.WriteAllBytes(model, ConvNdParityTests.ThreeD());
        NpyFile.Write(input, ParityHarness.RandomInput(4, 1, 2, 4, 6, 6));

        CliRun ok = CliRun.Of("explain", "--model", model, "--input", input, "--out", npy);
        ok.AssertSuccess();
        CollectionAssert.AreEqual(new[] { 2, 4, 6, 6 }, NpyFile.Read(npy).Shape);

        string npy2 = Path.Combine(_dir, "r2.npy");
        CliRun refused = CliRun.Of("explain", "--model", model, "--input", input, "--out", npy2, "--heatmap", png);
        refused.AssertBadInput("3-D input", "[N,k,C,D,H,W]", "--out");
        Assert.IsFalse(File.Exists(png), "no heatmap written");
        Assert.IsFalse(File.Exists(npy2), "all or nothing: no relevance written either");
    }
}
