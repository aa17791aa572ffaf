using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Compiling;
using Clrp.Onnx.Tests.Support;
using static Clrp.Onnx.Tests.RealModels.RealModelHarness;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>
/// ClrpMl's own 1-D (ECG-like, [N,2,256]) and 3-D (volume, [N,1,8,32,32]) CNNs, exported by
/// <c>scripts/models/export_nd_cnn_graphs.py</c> at two opsets each as graph-only files, BatchNorm kept and folded, filled
/// by <see cref="GraphFiller"/>: every node supported, the forward equal to ONNX Runtime's on the filled file (1e-5), CLRP1
/// (paper rules) finite and conserving ΣR within 1e-3 (ReLU nets), epsilon-plus's absorbed amount reported, and the
/// folded file giving the unfused one's logits and relevance.
/// </summary>
[TestClass]
public sealed class NdCnnGraphTests
{
    /// <summary>SHA-256 of the committed graph-only files (models/README.md lists the same).</summary>
    private static readonly Dictionary<string, string> Hashes = new()
    {
        ["ecg1d-opset11-bn.onnx"] = "ef3f949efba39a5e65d4b7e091169b2ccfbfdde3bf0a931f19d1b0005356c741",
        ["ecg1d-opset11-folded.onnx"] = "01320e0c20776c996a1c0f6b5f50349b4aa07a2d873d91bdde2ae4b1765e8f6c",
        ["ecg1d-opset17-bn.onnx"] = "7c9b3f7a72e27ae12653b09e387ca18efb2b2c470955db8e7b319e15147cd91c",
        ["ecg1d-opset17-folded.onnx"] = "34cd120d982cad6cfd4d19f942774dde8b12731c30d4b8e972a83b5510f6478c",
        ["cnn3d-opset13-bn.onnx"] = "a5bdade71e6c331be073241dfd8657e16ea151287939dde70cd4b8daf37c43c5",
        ["cnn3d-opset13-folded.onnx"] = "6ab2b2b5534afdbbe93bbf1a262ab644eada1fff2ef9ff8885b38edb0fdaf65f",
        ["cnn3d-opset16-bn.onnx"] = "94b98347313ea0b7fa1047f625a28a3f78ec721749bad7491ece68235f85228d",
        ["cnn3d-opset16-folded.onnx"] = "11dbf500c65874a5e242a14478f1901303e8f2a20a5d20ad86986e54478d470d",
    };

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("ecg1d-opset11")]
    [DataRow("ecg1d-opset17")]
    [DataRow("cnn3d-opset13")]
    [DataRow("cnn3d-opset16")]
    public void Nd_cnn_explains_end_to_end(string name)
    {
        var results = new List<Explanation>();
        foreach (string file in new[] { $"{name}-bn.onnx", $"{name}-folded.onnx" })
        {
            string graph = TestPaths.Model(Path.Combine("graphs", file));
            Assert.AreEqual(Hashes[file], Sha256(graph), $"{file}: SHA-256 differs from models/README.md");
            string path = GraphFiller.FillToTemp(graph);
            try
            {
                ModelReport report = AssertEveryNodeSupported(path, Paper(), $"{file} (paper)");
                AssertEveryNodeSupported(path, EpsilonPlus(), $"{file} (epsilon-plus)");
                int[] shape = report.Input.Dimensions!.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
                Tensor input = NormalInput(name.Length * 7919, [1, .. shape]);

                (RealModelFigures figures, Explanation paper) = Measure(file, path, Paper(), input, Target.Predicted);
                TestContext.WriteLine(figures.ToString());
                TestContext.WriteLine($"{file}: paper CLRP1: {Describe(paper)}");
                AssertLogitsMatchOrt(path, input, paper, outputIsSoftmax: false, 1e-5, file);
                AssertConserved(paper, ConservationTolerance, $"{file} (paper)");

                Explanation eps = ExplainFinite(path, EpsilonPlus(), input, Target.Predicted, $"{file} (epsilon-plus)");
                AbsorbedAmounts(eps, $"{file} (epsilon-plus)");
                TestContext.WriteLine($"{file}: epsilon-plus CLRP1: {Describe(eps)}");
                results.Add(paper);
            }
            finally
            {
                Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
            }
        }

        // The exporter's folded file computes the unfused file's function, and the explainer folds BN itself.
        Compare.Close(results[1].Logits.Data, results[0].Logits.Data, 1e-4, $"{name}: folded vs bn logits");
        Assert.AreEqual(results[0].TargetClass, results[1].TargetClass, $"{name}: folded vs bn predicted class");
        Compare.Close(results[1].TargetRelevance!.Data, results[0].TargetRelevance!.Data, 1e-3, $"{name}: folded vs bn target relevance");
        Compare.Close(results[1].DualRelevance!.Data, results[0].DualRelevance!.Data, 1e-3, $"{name}: folded vs bn dual relevance");
    }

    /// <summary>Compiled engine = managed walk: on the folded file every method × composite, on the -bn file every method (paper).</summary>
    [TestMethod]
    [DataRow("ecg1d-opset17")]
    [DataRow("cnn3d-opset13")]
    public void Compiled_equals_managed_on_nd_cnn_graphs(string name)
    {
        foreach ((string file, string[] composites) in new[] { ($"{name}-bn.onnx", new[] { "paper" }), ($"{name}-folded.onnx", ParityHarness.GridComposites.ToArray()) })
        {
            string path = GraphFiller.FillToTemp(TestPaths.Model(Path.Combine("graphs", file)));
            try
            {
                int[] shape = ClrpExplainer.Inspect(path).Input.Dimensions!.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
                Tensor input = ParityHarness.RandomInput(file.Length, 1, shape);
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
}
