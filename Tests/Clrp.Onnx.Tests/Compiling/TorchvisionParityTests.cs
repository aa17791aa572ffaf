using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.RealModels;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Compiled engine against the managed walk on every torchvision graph, filled with seeded weights: on the exporter's
/// BN-folded graph (and SqueezeNet, which has none) every method × composite; on the graph with BatchNorm kept — which the
/// explainer folds itself, the same for every composite — every method with the paper rules. Top-2 of one image at the
/// size each graph was exported for.
/// </summary>
[TestClass]
public sealed class TorchvisionParityTests
{
    public TestContext TestContext { get; set; } = null!;

    public static IEnumerable<object[]> Graphs() =>
        Directory.GetFiles(TestPaths.Model("graphs"), "*.onnx").Where(f => !ExplainedOnly.Any(Path.GetFileName(f).StartsWith))
            .Select(f => new object[] { Path.GetFileName(f) }).OrderBy(f => (string)f[0], StringComparer.Ordinal);

    /// <summary>
    /// Graphs of issue 11 that TorchvisionGraphTests explains end to end but that would cost CI minutes here for every
    /// method × composite: the large ones (25–69 M weights; AlexNet's 4096-wide classifier took 84 s), whose operators (Conv,
    /// Gemm, pooling, Relu, residual Add) the smaller graphs cover, and the exporter-folded twins of the small ones (their
    /// -bn graphs, which the explainer folds itself, are checked here; the folded ones are the same ops minus BN).
    /// </summary>
    private static readonly string[] ExplainedOnly =
    [
        "wide_resnet50_2", "resnext50_32x4d", "alexnet", "shufflenet_v2_x0_5-folded", "regnet_x_400mf-folded", "regnet_y_400mf-folded", "mnasnet0_5-folded",
        "efficientnet_v2_s", // 21 M weights; its ops (Conv, BN, SiLU, SE, residual Add) are efficientnet_b0's
        "ecg1d", "cnn3d", // 1-D and 3-D CNNs: NdCnnGraphTests checks parity on one opset of each
        // ConvNeXt-Tiny: 28 M weights; convnext_small_test has the same blocks at a fraction of the width. Its opset-14 twin differs
        // only by the decomposed LayerNorm, whose fused node NewOpsParityTests covers (18 s saved).
        "convnext_tiny", "convnext_small_test_opset14",
    ];

    [TestMethod]
    [TestCategory("slow")]
    [DynamicData(nameof(Graphs))]
    public void Compiled_equals_managed_on_torchvision_graphs(string file)
    {
        string path = GraphFiller.FillToTemp(TestPaths.Model(Path.Combine("graphs", file)));
        try
        {
            int[] image = Clrp.Onnx.Explaining.ClrpExplainer.Inspect(path).Input.Dimensions!.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
            Tensor input = ParityHarness.RandomInput(file.Length, 1, image);
            string[] composites = file.EndsWith("-bn.onnx", StringComparison.Ordinal) ? ["paper"] : [.. ParityHarness.GridComposites];
            foreach (string line in ParityHarness.AssertParityShared(path, input, file, composites, ParityHarness.Methods))
            {
                TestContext.WriteLine(line);
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
