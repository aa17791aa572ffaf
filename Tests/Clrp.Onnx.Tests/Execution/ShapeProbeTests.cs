using Clrp.Onnx.Execution;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Tests.RealModels;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Execution;

/// <summary>
/// The weightless shape probe (ONNX Runtime's inference on the model with its weights turned into inputs) gives the shapes
/// a run over an image gives, on every shipped model and torchvision graph.
/// </summary>
[TestClass]
public sealed class ShapeProbeTests
{
    public static IEnumerable<object[]> Models() =>
        new[] { "fashion-vgg.onnx", "fashion-pair-vgg.onnx", "fashion-pair-resnet.onnx", "fashion-pair-mobilenet.onnx", "emotion.onnx", "ch_ppocr_mobile_v2.0_cls_infer.onnx" }
            .Select(m => new object[] { m, false })
            .Concat(Directory.GetFiles(TestPaths.Model("graphs"), "*.onnx").Select(g => new object[] { Path.Combine("graphs", Path.GetFileName(g)), true }));

    [TestMethod]
    [DynamicData(nameof(Models))]
    public void Inferred_shapes_equal_the_shapes_of_a_run(string model, bool graphOnly)
    {
        string path = graphOnly ? GraphFiller.FillToTemp(TestPaths.Model(model)) : TestPaths.Model(model);
        try
        {
            OnnxGraph graph = OnnxModelReader.Read(path);
            using ExplanationPlan plan = ExplanationPlan.Build(graph, null, CompositePresets.Paper(), strict: true);
            int[] image = ShapeProbe.DeclaredImageShape(plan.Input) ?? [3, 48, 192]; // the OCR classifier's width is free
            Dictionary<string, int[]>? inferred = ShapeProbe.Infer(plan.Original, plan.Input, image, plan.ProbedValues);
            Dictionary<string, int[]> measured = ShapeProbe.Measure(plan.Original, plan.Input, image, plan.ProbedValues);
            if (model.StartsWith("ch_ppocr", StringComparison.Ordinal) || model.Contains("shufflenet", StringComparison.Ordinal))
            {
                // Its Reshape target is computed from the input's shape (OCR: Shape → Slice → Concat; ShuffleNetV2's channel
                // shuffle: Shape → Gather → Concat): inference leaves the dimension open, and the probe runs the model instead.
                Assert.IsNull(inferred, $"{model}: expected an open dimension");
                inferred = ShapeProbe.Run(plan.Original, plan.Input, image, plan.ProbedValues);
            }

            Assert.IsNotNull(inferred, $"{model}: ONNX Runtime's inference left a dimension open");
            Assert.HasCount(measured.Count, inferred, $"{model}: values");
            foreach ((string name, int[] shape) in measured)
            {
                CollectionAssert.AreEqual(shape, inferred[name], $"{model}: '{name}'");
            }
        }
        finally
        {
            if (graphOnly)
            {
                Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
            }
        }
    }
}
