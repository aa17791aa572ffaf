using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Models that ONNX Runtime cannot run on an input (issue 12, item 1): refused at load where the declared shapes tell
/// (ORT's shape inference, input axes of 0), otherwise a <see cref="ModelRunException"/> naming the node of the file —
/// never a raw <c>OnnxRuntimeException</c> — and exit 2 with one line from the CLI.
/// </summary>
[TestClass]
public sealed class ModelRunFailureTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Explain_ModelThatFailsWhenRun_ThrowsModelRunExceptionNamingTheNode()
    {
        int cases = 0;
        foreach ((string what, OnnxBuilder model, int[] shape, string node, string op) in HostileModels.FailingAtRunTime())
        {
            string path = model.Save(Path.Combine(_dir, $"m{cases++}.onnx"));
            // Refused at load where the plan or the shape probe can tell (e.g. UnsupportedOperatorException "a 5×5 window
            // does not fit the 4×4 input"), else when run (ModelRunException): a typed error naming the node either way.
            var e = Assert.Throws<ClrpException>(() =>
            {
                using var explainer = ClrpExplainer.Load(path, new ExplainerOptions { Method = ExplainMethod.Lrp });
                explainer.Explain(new Tensor(shape));
            }, what);
            StringAssert.Contains(e.Message, $"node '{node}'", what);
            StringAssert.Contains(e.Message, op, what);
            if (e is ModelRunException run)
            {
                Assert.AreEqual(node, run.NodeName, what);
                Assert.AreEqual(op, run.OpType, what);
                StringAssert.Contains(e.Message, "[" + string.Join(',', shape) + "]", what);
            }
            Assert.DoesNotContain("onnxruntime_src", e.Message, what);
        }

        Assert.AreEqual(6, cases);
    }

    [TestMethod]
    public void Cli_ModelThatFailsWhenRun_ExitsTwoNamingTheNode()
    {
        int cases = 0;
        foreach ((string what, OnnxBuilder model, int[] shape, string node, string op) in HostileModels.FailingAtRunTime())
        {
            string input = Path.Combine(_dir, $"x{cases}.npy");
            NpyFile.Write(input, new Tensor(shape));
            CliRun run = CliRun.Of("explain", "--model", model.Save(Path.Combine(_dir, $"m{cases++}.onnx")), "--input", input, "--method", "lrp");
            run.AssertBadInput($"node '{node}'", op);
        }

        Assert.AreEqual(6, cases);
    }

    [TestMethod]
    public void Load_KernelLargerThanFixedInput_RefusedAtLoadNamingTheNode()
    {
        string model = HostileModels.Conv([1L, 1L, 4L, 4L], [2, 1, 5, 5]).Save(Path.Combine(_dir, "m.onnx"));

        var e = Assert.Throws<ClrpException>(() => ClrpExplainer.Load(model));

        StringAssert.Contains(e.Message, "node 'conv0'");
        StringAssert.Contains(e.Message, "Conv");
    }

    [TestMethod]
    public void Load_InputAxisOfZero_RefusedNamingTheInputAndAxis()
    {
        string model = HostileModels.Conv([1L, 1L, 0L, 4L], [2, 1, 1, 1]).Save(Path.Combine(_dir, "m.onnx"));

        var e = Assert.ThrowsExactly<InvalidGraphException>(() => ClrpExplainer.Load(model));

        StringAssert.Contains(e.Message, "'x'");
        StringAssert.Contains(e.Message, "axis 2 of length 0");
    }

    [TestMethod]
    public void ModelRunner_ModelThatFailsWhenRun_ThrowsModelRunException()
    {
        string model = HostileModels.Reshape(1, 5, 3).Save(Path.Combine(_dir, "m.onnx"));
        using var runner = ModelRunner.Open(model, Device.Cpu);

        var e = Assert.ThrowsExactly<ModelRunException>(() => runner.Run(new Tensor(1, 1, 4, 4)));

        Assert.AreEqual("reshape0", e.NodeName);
    }

    [TestMethod]
    public void Explainer_AfterFailure_StillExplainsAGoodInput()
    {
        string model = HostileModels.Conv(["N", 1L, "H", "W"], [2, 1, 5, 5]).Save(Path.Combine(_dir, "m.onnx"));
        using var explainer = ClrpExplainer.Load(model, new ExplainerOptions { Method = ExplainMethod.Lrp });
        Assert.Throws<ClrpException>(() => explainer.Explain(new Tensor(1, 1, 4, 4)));

        var x = new Tensor(1, 1, 6, 6);
        x.Data.AsSpan().Fill(1f);
        Explanation e = explainer.Explain(x, Target.Class(0));

        Assert.AreEqual(36, e.Relevance.Length);
    }

    [TestMethod]
    [DataRow("/onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:91 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped.",
        "input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped.")]
    [DataRow("/onnxruntime_src/onnxruntime/core/common/safeint.h:17 static void SafeIntExceptionHandler<onnxruntime::OnnxRuntimeException>::SafeIntOnOverflow() Integer overflow", "Integer overflow")]
    [DataRow("Invalid input shape: {4,4}", "Invalid input shape: {4,4}")]
    public void Clean_OrtReason_DropsTheSourceLocation(string reason, string expected)
    {
        Assert.AreEqual(expected, OrtFailures.Clean(reason));
    }
}
