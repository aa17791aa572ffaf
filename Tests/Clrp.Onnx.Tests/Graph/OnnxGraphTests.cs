using Clrp.Onnx.Explaining;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Graph;

/// <summary>The ONNX reader (order, names, constants in every encoding) and the errors Load and Explain raise on bad models and inputs.</summary>
[TestClass]
public sealed class OnnxGraphTests
{
    private static readonly float[] Weights23 = [1, -2, 3, -4, 5, -6];

    /// <summary>x [N,3] → Gemm(w [2,3], transB) → Relu → output.</summary>
    private static OnnxBuilder SmallDense(int opset = 17) => new OnnxBuilder(opset).Input("x", "N", 3).Initializer("w", Weights23, [2, 3])
        .Node("Gemm", ["x", "w"], ["z"], "gemm", OnnxBuilder.Int("transB", 1)).Node("Relu", ["z"], ["y"], "relu").Output("y");

    // ---------------------------------------------------------------- reader

    [TestMethod]
    public void Read_NodesListedOutOfOrder_SortedTopologically()
    {
        var random = new Random(1);
        var net = new TestNet(random, 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(4);
        net.Onnx.ReverseNodes();
        (byte[] model, ReferenceNet reference) = net.Build();
        OnnxGraph graph = OnnxModelReader.Read(model, "reversed");
        CollectionAssert.AreEqual(new[] { "Conv", "Relu", "Flatten", "Gemm" }, graph.Nodes.Select(n => n.OpType).ToArray());
        float[] x = RandomData.Normal(random, 50);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 1, 1e-4, "reversed node list");
    }

    [TestMethod]
    public void Read_EmptyAndDuplicateNodeNames_GetUniqueNames()
    {
        byte[] model = new OnnxBuilder().Input("x", "N", 3)
            .Node("Relu", ["x"], ["a"], string.Empty).Node("Relu", ["a"], ["b"], "dup").Node("Relu", ["b"], ["c"], "dup")
            .Node("Relu", ["c"], ["d"], string.Empty).Node("Relu", ["d"], ["y"], "dup_1").Output("y").ToBytes();
        OnnxGraph graph = OnnxModelReader.Read(model, "names");
        string[] names = graph.Nodes.Select(n => n.Name).ToArray();
        Assert.AreEqual(5, names.Distinct(StringComparer.Ordinal).Count(), $"names not unique: {string.Join(", ", names)}");
        Assert.IsTrue(names.All(n => n.Length > 0), "an empty name was kept");
        Assert.AreEqual("dup", names[1], "the first holder of a name keeps it");
    }

    [TestMethod]
    public void Read_InitializersInRawAndTypedFields_DecodeEqually()
    {
        float[] f = [1.5f, -2.25f, 3e-8f, float.MaxValue, -0f, 7];
        long[] l = [0, -1, long.MaxValue, 42];
        byte[] model = new OnnxBuilder().Input("x", "N", 3)
            .Initializer("f_raw", f, [2, 3]).Initializer("f_typed", f, [2, 3], raw: false)
            .Int64Initializer("l_raw", l, [4]).Int64Initializer("l_typed", l, [2, 2], raw: false)
            .Node("Relu", ["x"], ["y"], "relu").Output("y").ToBytes();
        OnnxGraph graph = OnnxModelReader.Read(model, "initializers");
        CollectionAssert.AreEqual(f, graph.Constants["f_raw"].Floats);
        CollectionAssert.AreEqual(f, graph.Constants["f_typed"].Floats);
        CollectionAssert.AreEqual(new[] { 2, 3 }, graph.Constants["f_typed"].Shape);
        CollectionAssert.AreEqual(l, graph.Constants["l_raw"].Longs);
        CollectionAssert.AreEqual(l, graph.Constants["l_typed"].Longs);
        CollectionAssert.AreEqual(new[] { 2, 2 }, graph.Constants["l_typed"].Shape);
        Assert.AreEqual(1, graph.Inputs.Count);
    }

    [TestMethod]
    [DataRow("float_data")]
    [DataRow("constant")]
    public void Explain_WeightsInTypedFieldsOrConstantNodes_SameAsRawInitializers(string storage)
    {
        (byte[] rawModel, ReferenceNet reference) = new TestNet(new Random(2), 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Reshape(shapeFromConstantNode: storage == "constant").Gemm(4).Build();
        var net = new TestNet(new Random(2), 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1), weightsFrom: storage).Relu().Reshape(shapeFromConstantNode: storage == "constant").Gemm(4);
        (byte[] model, _) = net.Build();
        OnnxGraph graph = OnnxModelReader.Read(model, storage);
        Assert.IsTrue(graph.IsConstant("conv0_w"), "Conv weight is a known constant");
        Assert.AreEqual(storage == "constant" ? 2 : 0, graph.Nodes.Count(n => n.OpType == "Constant"));

        float[] x = RandomData.Normal(new Random(3), 2 * 50);
        var options = new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() };
        Explanation viaRaw = ExplainerHarness.Explain(rawModel, x, [2, 2, 5, 5], options, 3);
        Explanation e = ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 3, 1e-4, storage);
        CollectionAssert.AreEqual(viaRaw.Relevance.Data, e.Relevance.Data, $"{storage} vs raw_data weights");
    }

    [TestMethod]
    public void Read_InitializersAlsoListedAsGraphInputs_NotTreatedAsInputs()
    {
        // Opset 9 / IR 3 exporters listed every initializer among the graph inputs.
        var random = new Random(4);
        var net = new TestNet(random, 2, 5, 5, opset: 9).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(4);
        net.Onnx.InitializersAsInputs();
        (byte[] model, ReferenceNet reference) = net.Build();
        OnnxGraph graph = OnnxModelReader.Read(model, "opset9");
        Assert.AreEqual(1, graph.Inputs.Count, $"inputs: {string.Join(", ", graph.Inputs.Select(i => i.Name))}");
        Assert.AreEqual("x", graph.Inputs[0].Name);
        Assert.AreEqual(9, graph.Opsets[string.Empty]);
        float[] x = RandomData.Normal(random, 2 * 50);
        ExplainerHarness.AssertLrpMatchesReference(model, reference, x, net.InputShape, CompositePresets.Epsilon(), 2, 1e-4, "initializers as inputs");
    }

    [TestMethod]
    public void Read_SymbolicAndFixedDimensions_Kept()
    {
        OnnxGraph graph = OnnxModelReader.Read(new OnnxBuilder().Input("x", "batch", 3, 8, 8).Node("Relu", ["x"], ["y"], "r").Output("y").ToBytes(), "dims");
        CollectionAssert.AreEqual(new long?[] { null, 3, 8, 8 }, graph.Inputs[0].Dimensions!.ToArray());
        Assert.AreEqual("[?,3,8,8]", graph.Inputs[0].ShapeText);
    }

    // ---------------------------------------------------------------- graph errors

    [TestMethod]
    public void Load_Cycle_InvalidGraphExceptionNamingNodes()
    {
        byte[] model = new OnnxBuilder().Input("x", "N", 3)
            .Node("Add", ["x", "c"], ["a"], "loopA").Node("Relu", ["a"], ["c"], "loopB").Node("Relu", ["a"], ["y"], "out").Output("y").ToBytes();
        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "cycle");
        StringAssert.Contains(e.Message, "loopA");
        StringAssert.Contains(e.Message, "loopB");
    }

    [TestMethod]
    public void Load_DanglingInput_InvalidGraphExceptionNamingNodeAndValue()
    {
        byte[] model = new OnnxBuilder().Input("x", "N", 3).Node("Add", ["x", "ghost"], ["y"], "reader").Output("y").ToBytes();
        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "reader");
        StringAssert.Contains(e.Message, "ghost");
    }

    [TestMethod]
    public void Load_NoFloatInput_InvalidGraphException()
    {
        byte[] model = new OnnxBuilder().TypedInput("ids", OnnxBuilder.Int64, "N", 3)
            .Node("Cast", ["ids"], ["x"], "cast", OnnxBuilder.Int("to", OnnxBuilder.Float))
            .Initializer("w", Weights23, [2, 3]).Node("Gemm", ["x", "w"], ["y"], "gemm", OnnxBuilder.Int("transB", 1)).Output("y").ToBytes();
        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        StringAssert.Contains(e.Message, "int64");
        StringAssert.Contains(e.Message, "ids");
    }

    // ---------------------------------------------------------------- file errors

    [TestMethod]
    [DataRow("missing")]
    [DataRow("empty")]
    [DataRow("random-bytes")]
    [DataRow("truncated-fashion-vgg")]
    [DataRow("truncated-fashion-vgg-header")]
    public void Load_BadFile_ModelLoadException(string kind)
    {
        string dir = TestPaths.TempDir();
        string path = Path.Combine(dir, kind + ".onnx");
        switch (kind)
        {
            case "missing":
                break;
            case "empty":
                File.WriteAllBytes(path, []);
                break;
            case "random-bytes":
                var bytes = new byte[4096];
                new Random(9).NextBytes(bytes);
                File.WriteAllBytes(path, bytes);
                break;
            case "truncated-fashion-vgg":
                byte[] full = File.ReadAllBytes(TestPaths.FashionVgg);
                File.WriteAllBytes(path, full[..(full.Length / 2)]);
                break;
            default:
                File.WriteAllBytes(path, File.ReadAllBytes(TestPaths.FashionVgg)[..100]);
                break;
        }

        var e = Assert.ThrowsExactly<ModelLoadException>(() => ClrpExplainer.Load(path));
        StringAssert.Contains(e.Message, path);
    }

    // ---------------------------------------------------------------- operator errors

    [TestMethod]
    public void Load_UnsupportedOperatorOnPath_NamesNodeOpAndOpset()
    {
        var net = new TestNet(new Random(5), 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1));
        net.Onnx.Node("Sin", [net.OutputName], ["sine"], "the_sine");
        net.Onnx.Node("Flatten", ["sine"], ["flat"], "flat").Initializer("wd", new float[4 * 75], [4, 75])
            .Node("Gemm", ["flat", "wd"], ["logits"], "head", OnnxBuilder.Int("transB", 1)).Output("logits");
        byte[] model = net.Onnx.ToBytes();
        var e = Assert.ThrowsExactly<UnsupportedOperatorException>(() => ClrpExplainer.Load(ExplainerHarness.Save(model)));
        Assert.AreEqual("the_sine", e.NodeName);
        Assert.AreEqual("Sin", e.OpType);
        Assert.AreEqual(17, e.Opset);
        StringAssert.Contains(e.Message, "the_sine");
        StringAssert.Contains(e.Message, "Sin");
        StringAssert.Contains(e.Message, "opset 17");
    }

    // ---------------------------------------------------------------- input and target errors

    [TestMethod]
    [DataRow("wrong-width")]
    [DataRow("wrong-channels")]
    [DataRow("wrong-rank")]
    [DataRow("nan")]
    [DataRow("inf")]
    [DataRow("negative-inf")]
    public void Explain_BadInput_InvalidInputException(string kind)
    {
        (byte[] model, _) = new TestNet(new Random(6), 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(4).Build();
        using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Method = ExplainMethod.Lrp });
        float[] good = RandomData.Normal(new Random(7), 50);
        Tensor input = kind switch
        {
            "wrong-width" => new Tensor(new float[40], [1, 2, 5, 4]),
            "wrong-channels" => new Tensor(new float[75], [1, 3, 5, 5]),
            "wrong-rank" => new Tensor(new float[50], [1, 50]),
            "nan" => WithValue(good, float.NaN),
            "inf" => WithValue(good, float.PositiveInfinity),
            _ => WithValue(good, float.NegativeInfinity),
        };
        var e = Assert.ThrowsExactly<InvalidInputException>(() => explainer.Explain(input));
        Assert.IsFalse(string.IsNullOrWhiteSpace(e.Message));

        static Tensor WithValue(float[] data, float value)
        {
            float[] copy = (float[])data.Clone();
            copy[17] = value;
            return new Tensor(copy, [1, 2, 5, 5]);
        }
    }

    [TestMethod]
    public void Explain_TargetOutsideClasses_InvalidTargetException()
    {
        (byte[] model, _) = new TestNet(new Random(8), 2, 5, 5).Conv(3, 3, pads: (1, 1, 1, 1)).Relu().Flatten().Gemm(10).Build();
        using var explainer = ClrpExplainer.Load(ExplainerHarness.Save(model), new ExplainerOptions { Method = ExplainMethod.Lrp });
        var input = new Tensor(RandomData.Normal(new Random(9), 50), [1, 2, 5, 5]);
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(input, 10));
        StringAssert.Contains(e.Message, "10");
        Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(input, -1));
        Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(input, Target.TopK(11)));
        Assert.AreEqual(9, explainer.Explain(input, 9).TargetClass);
    }

    [TestMethod]
    public void Explain_FashionVggTarget10_InvalidTargetException()
    {
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Method = ExplainMethod.Lrp });
        var input = new Tensor(new float[28 * 28], [1, 1, 28, 28]);
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(input, 10));
        StringAssert.Contains(e.Message, "[0, 10)");
    }
}
