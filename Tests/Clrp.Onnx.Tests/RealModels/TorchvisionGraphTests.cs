using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using static Clrp.Onnx.Tests.RealModels.RealModelHarness;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>
/// torchvision architectures exported by <c>scripts/models/export_torchvision_graphs.py</c> as graph-only files
/// (<c>models/graphs/</c>), filled with deterministic random weights by <see cref="GraphFiller"/> and explained end to end:
/// every node supported, CLRP1 with the paper composite and with EpsilonPlus finite, the forward equal to ONNX Runtime's
/// on the filled file, ΣR conserved by the paper rules within 1e-3 or the loss accounted for per architecture (see
/// <see cref="Accounting"/>), the amount EpsilonPlus's ε on the classifier absorbs reported, and the exporter's BN-folded
/// graph giving the same logits and the same relevance as the unfused one.
/// </summary>
[TestClass]
public sealed class TorchvisionGraphTests
{
    /// <summary>SHA-256 of the committed graph-only files (models/README.md lists the same).</summary>
    private static readonly Dictionary<string, string> Hashes = new()
    {
        ["resnet18-bn.onnx"] = "03969c3098ce1b8e41559d9e0b9ccb06db97bc94872b6c94f4393c80aa240208",
        ["resnet18-folded.onnx"] = "40fd81a50da09c019438d490d8e4900b12dbaf461a8096f8371a4f1f0132f533",
        ["resnet50-bn.onnx"] = "1123178a11e719d2c2307083a7ab963b70045e3ba14e57d2e852c4d900595aac",
        ["resnet50-folded.onnx"] = "be17221d7e20f7743441227702c70df2bcd6216bf7fbae62fd33e28b01a443d3",
        ["densenet121-bn.onnx"] = "3c62eee2a55099e97fef6d8746f4ffc5e7ea022647f49169dc3ee0babbad7578",
        ["densenet121-folded.onnx"] = "e664f2d8123f095df750ce73f1da2b42d492ca4ebb7dfc2a9173a94e836dc8a5",
        ["googlenet-bn.onnx"] = "af6bf9a4338189bcbdff3b315326be572792bada6cfac6b83a6c5eb34e9450ca",
        ["googlenet-folded.onnx"] = "90a8554724c01f802fc4428c40fe338203caa1adbaa4de43daaeb2fe33953636",
        ["inception_v3-bn.onnx"] = "f4463e570950edb43c2a6bee6d471196d8d982fbb7de34a5664a8499601c3d20",
        ["inception_v3-folded.onnx"] = "012306daa34072893fb2e99ce82880a4c4ab0da71711f9faaf19ade297e3799f",
        ["mobilenet_v2-bn.onnx"] = "1bca4a7e1a04825ff96686a5e197cf3ecc953be952305125d27a544a62ec492b",
        ["mobilenet_v2-folded.onnx"] = "4010c7af6b32a1d98553b764c881c042ff7cb255ad4234ff5306bf01dde85d42",
        ["mobilenet_v3_small-bn.onnx"] = "fa8b41ccfb33282042e4e8146b17c9aad33ee5183ad312055d4486a17778fe17",
        ["mobilenet_v3_small-folded.onnx"] = "77a4cb285d9f3a3442348d08c1c6fb9e83daf6f0986810e1e1856fbcd064f956",
        ["squeezenet1_1.onnx"] = "e45400c8c7c968183497cf50d7606bb67140b9faa4d10810fdb6919508016776",
        ["vgg16_bn-bn.onnx"] = "c576b910f59553cc5abfbf533c10486ddc0c9c9940866618a412ce61d0c9a36e",
        ["vgg16_bn-folded.onnx"] = "9a509bf80dff8723d4ccb69f8bbde01f4d0cea2d6bcf8acaaee3eeb122025c3a",
        ["efficientnet_b0-bn.onnx"] = "13acc4c1c57490ecab2f875d2a99b49099cc00bd7a385315e4a4fccddcea15e0",
        ["efficientnet_b0-folded.onnx"] = "8af7c52b82ac808c54c2e5511387338dd95015a2e1167c4a09e7ab55bb48837c",
        ["shufflenet_v2_x0_5-bn.onnx"] = "24d33d6c3f25faff1a8982729ef5575e4b700319d678ea0a30f082b591268a46",
        ["shufflenet_v2_x0_5-folded.onnx"] = "e6bcb2dee60daa01a760c4ef6fa28d1b85a8634a98bdc06c51409da79aaea019",
        ["regnet_x_400mf-bn.onnx"] = "fa78ad61071cabc5c03f00e486246766ec96f16554afbd117c4b55d462e9af61",
        ["regnet_x_400mf-folded.onnx"] = "29cad3e1dfe20444324497cbdfba9a43a92793bc6f8b8360e6d009fb81f29f7b",
        ["regnet_y_400mf-bn.onnx"] = "ece5ab00ced74b2bd7d974f35342bdc1e375aa95717d20076c366c2611428b74",
        ["regnet_y_400mf-folded.onnx"] = "cbe0019b521c2a3353e3e52ef2c681563648a1a6517442f209c423361c88a6d2",
        ["mnasnet0_5-bn.onnx"] = "3ddfd83bcf67d9aedaf944e2c7d402d843ad9c7e7b4f95d7bfe9e301a4eb1c80",
        ["mnasnet0_5-folded.onnx"] = "58e37da5760bfe361d6d2112e6f0cf2097505c5e67ccc83f342bc1c61672654b",
        ["resnext50_32x4d-bn.onnx"] = "4c681564f829a6892dd85a9d5401745d2c9666b1fe0abf5fa4ad05e4d7cb0842",
        ["resnext50_32x4d-folded.onnx"] = "cec7e76a51e0d444dad8c8e25ea64e5cf2d4448c48afcec55af572a16fd2496d",
        ["wide_resnet50_2-bn.onnx"] = "86bfca6f4931c3cc6ea1a0651c708b7cec2a06db64bbd818c68f1063e4bb0f8c",
        ["wide_resnet50_2-folded.onnx"] = "f01c09adaaf7024435f8f3240382e59a31ea22502f168c13883249a563074ef4",
        ["alexnet.onnx"] = "ca8b91ae55f2e7a8d90db5e3fe829ca4e753d7c9e54296c372b345f6be305b17",
        ["efficientnet_v2_s-bn.onnx"] = "8900c3db370fbbd5cc172ac47af4864ade4359892883bd3a3e47706b896d025e",
        ["efficientnet_v2_s-folded.onnx"] = "674381cfe0729c5fa1dfc12bb9fc69bbd632836e6c1a3141a3b81104ec32f58a",
        ["convnext_small_test.onnx"] = "b02914d5721e25312e8db0ba2f55ca5b4688403ced616e9f29fc0a0a26118ad4",
        ["convnext_small_test_opset14.onnx"] = "75e44167b8dc4df4f6a2b698be5aa6ab0e40a78d59ac527fafd5301327427b2d",
        ["convnext_tiny.onnx"] = "57a14b22a91c1911e805a99e184c1c3722de6a38ed741141959bed32910d0cfc",
        ["convnext_tiny_opset14.onnx"] = "30481d5f01434f282cfa2c0d563841310638677151dd539c74193f44142ab208",
    };

    /// <summary>
    /// Residual-branch γ scale per architecture (<see cref="GraphFiller.Fill"/>): EfficientNetV2-S's 35 residual Adds double
    /// the variance of random activations each, to logits of ~2·10⁷ where ONNX Runtime's own -bn and -folded runs differ by
    /// 3.2·10⁻⁵ (float32 rounding, no op difference); with branch γ × 0.2 the activations stay of order 1.
    /// </summary>
    private static readonly Dictionary<string, double> BranchScale = new() { ["efficientnet_v2_s"] = 0.2 };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("resnet18")]
    [DataRow("mobilenet_v2")]
    [DataRow("mobilenet_v3_small")]
    [DataRow("squeezenet1_1")]
    [DataRow("efficientnet_b0")]
    [DataRow("googlenet")]
    [DataRow("densenet121")]
    public void Architecture_explains_end_to_end(string arch) => Check(arch);

    /// <summary>About 10–25 s each on 2 cores (VGG16-BN: 38 M weights filled, loaded three times per file).</summary>
    [TestMethod]
    [TestCategory("slow")]
    [DataRow("vgg16_bn")]
    [DataRow("resnet50")]
    [DataRow("inception_v3")]
    public void Large_architecture_explains_end_to_end(string arch) => Check(arch);

    /// <summary>Issue 11's families: ShuffleNetV2 (shape arithmetic folded), RegNet X/Y, MNASNet, ResNeXt, Wide ResNet, AlexNet.</summary>
    [TestMethod]
    [DataRow("shufflenet_v2_x0_5")]
    [DataRow("regnet_x_400mf")]
    [DataRow("regnet_y_400mf")]
    [DataRow("mnasnet0_5")]
    [DataRow("alexnet")]
    public void Modern_architecture_explains_end_to_end(string arch) => Check(arch);

    /// <summary>ResNeXt-50 and Wide ResNet-50: 25 M and 69 M weights filled (Wide ResNet about a minute on 2 cores).</summary>
    [TestMethod]
    [TestCategory("slow")]
    [DataRow("resnext50_32x4d")]
    [DataRow("wide_resnet50_2")]
    [DataRow("efficientnet_v2_s")]
    public void Modern_large_architecture_explains_end_to_end(string arch) => Check(arch);

    /// <summary>
    /// ConvNeXt (issue 11): LayerNorm, GELU (Erf pattern), NHWC Linear layers, layer scale. Each architecture is exported
    /// twice, at opset 17 (one LayerNormalization op) and at opset 14 (LayerNorm decomposed, fused back by
    /// <see cref="Canonizers.FuseLayerNorm"/>); both files compute the same function and must give the same relevance.
    /// The small net has ConvNeXt-Tiny's blocks at a fraction of its width (fast set); ConvNeXt-Tiny itself is slow.
    /// </summary>
    [TestMethod]
    [DataRow("convnext_small_test")]
    public void ConvNeXt_blocks_explain_end_to_end(string arch) => Check(arch);

    /// <summary>ConvNeXt-Tiny at full width: 28 M weights filled, each file loaded three times.</summary>
    [TestMethod]
    [TestCategory("slow")]
    [DataRow("convnext_tiny")]
    public void ConvNeXt_tiny_explains_end_to_end(string arch) => Check(arch);

    [TestMethod]
    public void Filler_is_deterministic_and_fills_every_stripped_initializer()
    {
        string graph = TestPaths.Model(Path.Combine("graphs", "resnet18-bn.onnx"));
        byte[] a = GraphFiller.Fill(graph), b = GraphFiller.Fill(graph);
        CollectionAssert.AreEqual(a, b, "two fills differ");
        var model = Proto.ModelProto.Parser.ParseFrom(a);
        foreach (Proto.TensorProto t in model.Graph.Initializer.Where(t => t.DataType == (int)Proto.TensorProto.Types.DataType.Float))
        {
            long count = t.Dims.Aggregate(1L, (x, y) => x * y);
            Assert.AreEqual(count * 4, t.RawData.Length + (t.FloatData.Count * 4), $"initializer {t.Name} holds {t.RawData.Length} bytes for {count} floats");
        }

        // He-uniform: conv1 [64,3,7,7] within ±√(6/147), BN variance within [0.5, 1.5].
        float[] w = GraphFiller.Parameter("conv1.weight", "weight", 64 * 3 * 7 * 7, 147);
        Assert.IsTrue(w.All(v => Math.Abs(v) <= Math.Sqrt(6.0 / 147)) && w.Max() > 0.15 && w.Min() < -0.15);
        float[] var = GraphFiller.Parameter("bn1.running_var", "bn_var", 64);
        Assert.IsTrue(var.All(v => v is >= 0.5f and <= 1.5f));
    }

    /// <summary>
    /// How relevance is accounted per architecture under the paper rules (z^B first, z⁺ elsewhere, biases ignored).
    /// z⁺ sends a unit's relevance back in proportion to its positive contributions <c>(a·w)⁺</c>; a unit that has none but
    /// holds relevance all the same keeps it, and the walk loses it (Zennit's ZPlus does the same). Such units are alive
    /// through their bias or BN shift alone, or are negative-valued (outputs of a linear bottleneck, SiLU, HardSwish) and
    /// received relevance through a negative weight of the next layer. Categories:
    /// "conserves": ΣR_in = ΣR_out within 1e-3 for target and dual seeds (ReLU nets whose convolutions see many inputs);
    /// "dead logits": SqueezeNet's logits are ReLU outputs pooled, and CLRP1's dual seed on a class whose logit is exactly
    /// 0 cannot flow back, so the dual conserves the seed placed on live classes;
    /// "bias units": MobileNetV2's depthwise 3×3 convolutions see one channel, and a window that is all zero after ReLU6
    /// leaves units alive through their BN shift alone: part of the seed is absorbed (reported), and the same graph with
    /// every bias and BN shift zeroed conserves within 1e-3;
    /// "signed activations": as "bias units", and SiLU (EfficientNet) / HardSwish (MobileNetV3) make negative activations,
    /// so units with no positive contribution exist even without biases: the absorbed amount is reported and stays within
    /// a sanity bound (ΣR_in/ΣR_out in [0.5, 1.5]), with and without biases;
    /// "depthwise signed": ShuffleNetV2's branches end a depthwise 3×3 + BN without ReLU (signed) in a z⁺ 1×1 Conv, on maps
    /// of 2×2 to 16×16 at 64×64: z⁺ absorbs about 60 % (reported; ΣR_in/ΣR_out within [0.2, 1.5]), and with every bias and
    /// BN shift zeroed the ε rule (1e-9) everywhere conserves within 1e-3 — the chunk (folded Slice), Concat and channel
    /// shuffle (Reshape/Transpose) route relevance without loss. (Tracing the walk node by node on such
    /// graphs shows every loss at a z⁺ Conv, none at a routing, pooling, gating or residual node.)
    /// </summary>
    private static readonly Dictionary<string, string> Accounting = new()
    {
        ["resnet18"] = "conserves", ["resnet50"] = "conserves", ["densenet121"] = "conserves", ["googlenet"] = "conserves",
        ["inception_v3"] = "conserves", ["vgg16_bn"] = "conserves", ["squeezenet1_1"] = "dead logits",
        ["mobilenet_v2"] = "bias units", ["mobilenet_v3_small"] = "signed activations", ["efficientnet_b0"] = "signed activations",
        ["shufflenet_v2_x0_5"] = "depthwise signed", ["regnet_x_400mf"] = "conserves", ["regnet_y_400mf"] = "conserves", ["mnasnet0_5"] = "signed activations",
        ["alexnet"] = "conserves", ["resnext50_32x4d"] = "conserves", ["wide_resnet50_2"] = "conserves",
        ["efficientnet_v2_s"] = "signed activations",
        ["convnext_small_test"] = "signed activations", ["convnext_tiny"] = "signed activations",
    };

    private void Check(string arch)
    {
        bool convNeXt = arch.StartsWith("convnext", StringComparison.Ordinal);
        bool hasBn = arch is not ("squeezenet1_1" or "alexnet") && !convNeXt;
        string accounting = Accounting[arch];
        string[] files = hasBn ? [$"{arch}-bn.onnx", $"{arch}-folded.onnx"] : convNeXt ? [$"{arch}.onnx", $"{arch}_opset14.onnx"] : [$"{arch}.onnx"];
        var results = new List<(string File, Explanation Paper)>();
        var twins = new List<Explanation>();
        foreach (string file in files)
        {
            string graph = TestPaths.Model(Path.Combine("graphs", file));
            Assert.AreEqual(Hashes[file], Sha256(graph), $"{file}: SHA-256 differs from models/README.md");
            string path = GraphFiller.FillToTemp(graph, residualBranchScale: BranchScale.GetValueOrDefault(arch, 1));
            try
            {
                results.Add((file, CheckFile(arch, file, graph, path, accounting)));
                if (convNeXt)
                {
                    int size = results[^1].Paper.Relevance.Shape[^1];
                    var zPlusSums = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.PaperZPlusSums() };
                    twins.Add(ExplainFinite(path, zPlusSums, NormalInput(arch.Length * 7919, 1, 3, size, size), Target.Class(results[0].Paper.TargetClass), $"{file} (paper-zplus-sums)"));
                }
            }
            finally
            {
                Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
            }
        }

        if (convNeXt)
        {
            // The opset-14 file's decomposed LayerNorm computes the same function as the opset-17 LayerNormalization op. Under
            // paper-zplus-sums both give the same relevance (measured 2–3e-7 on convnext_small_test); under paper's Norm sharing
            // the residual sums, where a block and its shortcut nearly cancel, amplify float32 rounding of the two LayerNorm forms
            // to 4–6e-3, so the twins are compared under z⁺ sums (and by their logits under paper).
            Compare.Close(twins[1].Logits.Data, twins[0].Logits.Data, 1e-4, $"{files[1]} vs {files[0]}: logits");
            Compare.Close(twins[1].Relevance.Data, twins[0].Relevance.Data, 1e-5, $"{files[1]} vs {files[0]}: LRP relevance under paper-zplus-sums");
            Compare.Close(results[1].Paper.Logits.Data, results[0].Paper.Logits.Data, 1e-4, $"{files[1]} vs {files[0]}: paper logits");
        }
        else if (hasBn)
        {
            // The exporter's folded graph computes the same function as the unfused one (the filler derives the folded
            // weights from the same parameters), and the explainer folds BN itself: same logits, same relevance. The CLRP1
            // map max(0, R/ΣR − R̄/ΣR̄) is a small difference of two nearly equal maps (random weights explain every class
            // alike), which amplifies float32 rounding: it is compared relative to the normalised target map R/ΣR.
            (string bnFile, Explanation bn) = results[0];
            (string foldedFile, Explanation folded) = results[1];
            Compare.Close(folded.Logits.Data, bn.Logits.Data, 1e-4, $"{foldedFile} vs {bnFile}: logits");
            Assert.AreEqual(bn.TargetClass, folded.TargetClass, $"{foldedFile} vs {bnFile}: predicted class");
            Compare.Close(folded.TargetRelevance!.Data, bn.TargetRelevance!.Data, 1e-3, $"{foldedFile} vs {bnFile}: paper target relevance");
            Compare.Close(folded.DualRelevance!.Data, bn.DualRelevance!.Data, 1e-3, $"{foldedFile} vs {bnFile}: paper dual relevance");
            double scale = bn.TargetRelevance!.Data.Sum(v => (double)v);
            double mapError = Math.Sqrt(folded.Relevance.Data.Zip(bn.Relevance.Data, (a, b) => ((double)a - b) * ((double)a - b)).Sum())
                / Math.Sqrt(bn.TargetRelevance!.Data.Sum(v => ((double)v / scale) * ((double)v / scale)));
            Assert.IsTrue(mapError <= 1e-3, $"{foldedFile} vs {bnFile}: CLRP1 map differs by {mapError:E2} of ‖R/ΣR‖");
        }
    }

    private Explanation CheckFile(string arch, string file, string graph, string path, string accounting)
    {
        ModelReport report = AssertEveryNodeSupported(path, Paper(), $"{file} (paper)");
        AssertEveryNodeSupported(path, EpsilonPlus(), $"{file} (epsilon-plus)");
        int size = checked((int)report.Input.Dimensions![2]!.Value);
        Tensor input = NormalInput(arch.Length * 7919, 1, 3, size, size);

        (RealModelFigures figures, Explanation paper) = Measure(file, path, Paper(), input, Target.Predicted);
        TestContext.WriteLine(figures.ToString());
        TestContext.WriteLine($"{file}: paper CLRP1: {Describe(paper)}");
        AssertLogitsMatchOrt(path, input, paper, outputIsSoftmax: false, 1e-5, file);
        switch (accounting)
        {
            case "conserves":
            case "dead logits":
                AssertConserved(paper, ConservationTolerance, $"{file} (paper)", liveOutputsOnly: accounting == "dead logits");
                break;
            case "depthwise signed":
                AssertAbsorbedWithin(paper, 0.2, 1.5, $"{file} (paper)");
                string zeroed = GraphFiller.FillToTemp(graph, zeroBiases: true, BranchScale.GetValueOrDefault(arch, 1));
                try
                {
                    var epsilon = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = Composites.Composites.Epsilon(1e-9f) };
                    Explanation lrp = ExplainFinite(zeroed, epsilon, input, Target.Predicted, $"{file} (ε 1e-9, biases zeroed)");
                    TestContext.WriteLine($"{file}: ε LRP, biases and BN shifts zeroed: {Describe(lrp)}");
                    AssertConserved(lrp, ConservationTolerance, $"{file} (ε 1e-9, biases and BN shifts zeroed)");
                }
                finally
                {
                    Directory.Delete(Path.GetDirectoryName(zeroed)!, recursive: true);
                }

                break;
            default:
                AssertAbsorbedWithin(paper, 0.5, 1.5, $"{file} (paper)");
                string biasFree = GraphFiller.FillToTemp(graph, zeroBiases: true, BranchScale.GetValueOrDefault(arch, 1));
                try
                {
                    Explanation free = ExplainFinite(biasFree, Paper(), input, Target.Predicted, $"{file} (paper, biases zeroed)");
                    TestContext.WriteLine($"{file}: paper CLRP1, biases and BN shifts zeroed: {Describe(free)}");
                    if (accounting == "bias units")
                    {
                        AssertConserved(free, ConservationTolerance, $"{file} (paper, biases and BN shifts zeroed)");
                    }
                    else
                    {
                        AssertAbsorbedWithin(free, 0.5, 1.5, $"{file} (paper, biases and BN shifts zeroed)");
                    }
                }
                finally
                {
                    Directory.Delete(Path.GetDirectoryName(biasFree)!, recursive: true);
                }

                break;
        }

        // EpsilonPlus: ε on the classifier (Gemm; SqueezeNet's is a Conv and gets z⁺), whose bias absorbs: reported.
        Explanation eps = ExplainFinite(path, EpsilonPlus(), input, Target.Predicted, $"{file} (epsilon-plus)");
        AbsorbedAmounts(eps, $"{file} (epsilon-plus)");
        TestContext.WriteLine($"{file}: epsilon-plus CLRP1: {Describe(eps)}");
        Assert.AreEqual(paper.TargetClass, eps.TargetClass, $"{file}: same predicted class under both composites");
        return paper;
    }
}
