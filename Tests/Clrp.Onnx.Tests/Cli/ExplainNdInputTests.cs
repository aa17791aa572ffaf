using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using SkiaSharp;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>
/// <c>clrp explain</c> on 1-D ([N,C,L]) and 3-D ([N,C,D,H,W]) models with .npy inputs: the relevance .npy has the input's
/// shape ([C,L], [C,D,H,W]) and equals the library's; a 1-D map's heatmap is a strip (8:1, enlarged); a 3-D map's heatmap is
/// refused with exit code 2 and one line saying to use --out, and nothing is written. Batch mode (--inputs, --out-dir)
/// draws the same pictures: strips for 1-D inputs, the channels-last model's [H, W] map, and no heatmap for a volume.
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
    [TestMethod]
    public void Batch_1d_inputs_get_strip_heatmaps_and_3d_inputs_the_npy_only()
    {
        string model1 = Path.Combine(_dir, "ecg.onnx"), model3 = Path.Combine(_dir, "volume.onnx");
        File.WriteAllBytes(model1, ConvNdParityTests.OneD());
        File.WriteAllBytes(model3, ConvNdParityTests.ThreeD());
        string in1 = Directory.CreateDirectory(Path.Combine(_dir, "signals")).FullName, in3 = Directory.CreateDirectory(Path.Combine(_dir, "volumes")).FullName;
        for (int i = 0; i < 2; i++)
        {
            NpyFile.Write(Path.Combine(in1, $"s{i}.npy"), ParityHarness.RandomInput(10 + i, 1, 2, 16).Reshape(2, 16));
            NpyFile.Write(Path.Combine(in3, $"v{i}.npy"), ParityHarness.RandomInput(20 + i, 1, 2, 4, 6, 6).Reshape(2, 4, 6, 6));
        }

        string out1 = Path.Combine(_dir, "out1"), out3 = Path.Combine(_dir, "out3");
        CliRun.Of("explain", "--model", model1, "--inputs", in1, "--out-dir", out1, "--method", "lrp").AssertSuccess();
        CliRun.Of("explain", "--model", model3, "--inputs", in3, "--out-dir", out3, "--method", "lrp").AssertSuccess();

        string[] strips = Directory.GetFiles(out1, "heatmap-c*.png", SearchOption.AllDirectories);
        Assert.HasCount(2, strips, "one strip heatmap per 1-D input");
        foreach (string png in strips)
        {
            using SKBitmap strip = SKBitmap.Decode(png);
            Assert.AreEqual(224, strip.Height, $"{png}: 2 rows enlarged to 224, as clrp explain --heatmap draws it");
            Assert.AreEqual(16 * 112, strip.Width, $"{png}: 16 samples enlarged ×112");
        }

        Assert.HasCount(2, Directory.GetFiles(out3, "relevance-c*.npy", SearchOption.AllDirectories), "one map per volume");
        Assert.IsEmpty(Directory.GetFiles(out3, "*.png", SearchOption.AllDirectories), "a volume has no single picture");
    }

    [TestMethod]
    public void Batch_channels_last_model_heatmap_is_the_HxW_map_as_explain_draws_it()
    {
        string model = TestPaths.Model("keras_nhwc_mobilenet.onnx");
        string inputs = Directory.CreateDirectory(Path.Combine(_dir, "nhwc")).FullName, single = Path.Combine(_dir, "x.npy");
        Tensor x = ParityHarness.RandomInput(5, 1, 32, 32, 3).Reshape(32, 32, 3);
        NpyFile.Write(Path.Combine(inputs, "x.npy"), x);
        NpyFile.Write(single, x);
        string outDir = Path.Combine(_dir, "out"), png = Path.Combine(_dir, "h.png");

        CliRun.Of("explain", "--model", model, "--inputs", inputs, "--out-dir", outDir, "--method", "lrp").AssertSuccess();
        CliRun.Of("explain", "--model", model, "--input", single, "--method", "lrp", "--heatmap", png).AssertSuccess();

        string batchPng = Directory.GetFiles(outDir, "heatmap-c*.png", SearchOption.AllDirectories).Single();
        using SKBitmap fromBatch = SKBitmap.Decode(batchPng), fromExplain = SKBitmap.Decode(png);
        Assert.AreEqual(fromExplain.Width, fromBatch.Width, "width: the 32×32 map enlarged, as clrp explain --heatmap");
        Assert.AreEqual(fromExplain.Height, fromBatch.Height);
        Assert.AreEqual(fromBatch.Width, fromBatch.Height, "a square picture's map is square (not 32×3)");
        CollectionAssert.AreEqual(fromExplain.Bytes, fromBatch.Bytes, "the same picture, pixel for pixel");
    }
}
