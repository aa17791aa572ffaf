using System.Globalization;
using Clrp.Onnx.Compiling;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.RealModels;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// <c>clrp export</c> writes a standalone explainer that another runtime — onnxruntime-node from npm — runs with the same
/// maps as the .NET explainer (1e-5 relative L2), on fashion-vgg, a pair model, the emotion model and a torchvision graph.
/// </summary>
[TestClass]
public sealed class ExportTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("fashion-vgg.onnx", "clrp1", 2)]
    [DataRow("fashion-pair-resnet.onnx", "clrp2", 2)]
    [DataRow("emotion.onnx", "sglrp", 1)]
    [DataRow("fashion-pair-mobilenet.onnx", "lrp", 3)]
    public void Exported_explainer_runs_in_onnxruntime_node_with_the_same_maps(string model, string method, int k) =>
        CheckInNode(TestPaths.Model(model), model, method, k);

    [TestMethod]
    [TestCategory("slow")]
    public void Exported_torchvision_explainer_runs_in_onnxruntime_node_with_the_same_maps()
    {
        string path = GraphFiller.FillToTemp(TestPaths.Model(Path.Combine("graphs", "resnet18-bn.onnx")));
        try
        {
            CheckInNode(path, "resnet18-bn.onnx (filled)", "clrp1", 2);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [TestMethod]
    public void Export_prints_the_graphs_inputs_and_outputs()
    {
        string dir = TestPaths.TempDir();
        string output = Path.Combine(dir, "sub", "fv.explain.onnx");
        CliRun run = CliRun.Of("export", "--model", TestPaths.FashionVgg, "--method", "clrp2", "--top-k", "3", "--mean", "0.2860", "--std", "0.3530", "--out", output);
        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, $"wrote {output}");
        StringAssert.Contains(run.Stdout, "clrp2, rules paper");
        StringAssert.Contains(run.Stdout, $"{CompiledNames.Targets} int64 [N,3]");
        StringAssert.Contains(run.Stdout, $"{CompiledNames.Relevance} [N,3,1,28,28]");
        StringAssert.Contains(run.Stdout, CompiledNames.DualRelevance);
        var exported = Proto.ModelProto.Parser.ParseFrom(File.ReadAllBytes(output));
        CollectionAssert.AreEqual(new[] { "input", CompiledNames.Targets }, exported.Graph.Input.Select(i => i.Name).ToArray());
        Assert.IsTrue(exported.Graph.Output.Select(o => o.Name).Contains(CompiledNames.Heatmap));
        Assert.AreEqual("clrp2", exported.MetadataProps.Single(p => p.Key == "clrp.method").Value);
        // The model's weights are referenced, not copied: the explainer adds little to the file.
        Assert.IsTrue(new FileInfo(output).Length < new FileInfo(TestPaths.FashionVgg).Length * 1.2, $"{new FileInfo(output).Length} bytes");
    }

    [TestMethod]
    public void Export_refuses_bad_arguments_with_one_line()
    {
        string dir = TestPaths.TempDir();
        CliRun.Of("export", "--model", TestPaths.FashionVgg, "--out", Path.Combine(dir, "x.onnx"), "--top-k", "0").AssertBadInput("--top-k");
        CliRun.Of("export", "--model", TestPaths.FashionVgg, "--out", Path.Combine(dir, "x.onnx"), "--method", "magic").AssertBadInput("magic");
        CliRun.Of("export", "--model", Path.Combine(dir, "missing.onnx"), "--out", Path.Combine(dir, "x.onnx")).AssertBadInput("missing.onnx");
        CliRun.Of("export", "--model", TestPaths.FashionVgg, "--out", Path.Combine(dir, "x.onnx"), "--size", "28").AssertBadInput("--size");
        CliRun.Of("export", "--model", TestPaths.FashionVgg, "--out", " ").AssertBadInput("--out");
        Assert.IsFalse(File.Exists(Path.Combine(dir, "x.onnx")), "a refused export writes nothing");
    }

    private void CheckInNode(string modelPath, string name, string method, int k)
    {
        string dir = TestPaths.TempDir();
        try
        {
            string exported = Path.Combine(dir, "explain.onnx");
            CliRun.Of("export", "--model", modelPath, "--method", method, "--top-k", k.ToString(CultureInfo.InvariantCulture), "--out", exported).AssertSuccess();
            ModelReport report = ClrpExplainer.Inspect(modelPath);
            int[] imageShape = report.Input.Dimensions!.Skip(1).Select(d => checked((int)d!.Value)).ToArray();
            Tensor x = ParityHarness.RandomInput(name.Length, 2, imageShape);
            string input = Path.Combine(dir, "x.npy");
            NpyFile.Write(input, x);
            string targets = string.Join(',', Enumerable.Range(1, k).Select(r => -r));
            TestContext.WriteLine(NodeRunner.Run(exported, input, Path.Combine(dir, "node"), targets));

            using var explainer = ClrpExplainer.Load(modelPath, new ExplainerOptions { Method = ExplainMethods.Parse(method) });
            Explanation expected = explainer.Explain(x, Target.TopK(k));
            Tensor Output(string output) => NpyFile.Read(Path.Combine(dir, $"node.{output}.npy"));
            double map = Compare.RelativeL2(Output(CompiledNames.Relevance).Data, expected.Relevance.Data);
            double heat = Compare.RelativeL2(Output(CompiledNames.Heatmap).Data, expected.Heatmap.Data);
            Compare.Close(Output(CompiledNames.Logits).Data, expected.Logits.Data, 1e-5, $"{name}: logits in node");
            CollectionAssert.AreEqual(expected.Relevance.Shape, Output(CompiledNames.Relevance).Shape, $"{name}: relevance shape in node");
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} {method} top-{k}: node vs .NET relative L2: map {map:E2}, heatmap {heat:E2} ({expected.Engine} engine)"));
            Assert.IsTrue(map <= 1e-5 && heat <= 1e-5, $"{name}: node's map differs from the .NET explainer's by {map:E2} (heatmap {heat:E2})");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
