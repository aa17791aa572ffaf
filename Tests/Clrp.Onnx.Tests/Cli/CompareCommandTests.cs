using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp compare</c>: the relative error against a map written by the CLI, and its exit codes.</summary>
[TestClass]
public sealed class CompareCommandTests
{
    [TestMethod]
    public void Compare_SameAndPerturbedMaps_ExitZeroThenOne()
    {
        string dir = TestPaths.TempDir();
        string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy"), c = Path.Combine(dir, "c.npy");
        Clrp.Onnx.Tensors.NpyFile.Write(a, new Clrp.Onnx.Tensors.Tensor([3f, 4f], [2]));
        Clrp.Onnx.Tensors.NpyFile.Write(b, new Clrp.Onnx.Tensors.Tensor([3f, 4f], [2]));
        Clrp.Onnx.Tensors.NpyFile.Write(c, new Clrp.Onnx.Tensors.Tensor([3f, 4.5f], [2]));   // ‖Δ‖/‖a‖ = 0.5/5 = 0.1

        CliRun same = CliRun.Of("compare", "--expected", a, "--actual", b);
        same.AssertSuccess();
        StringAssert.Contains(same.Stdout, "relative L2 0.00E+000");

        CliRun differs = CliRun.Of("compare", "--expected", a, "--actual", c, "--tolerance", "0.05");
        Assert.AreEqual(1, differs.ExitCode);
        StringAssert.Contains(differs.Stdout, "relative L2 1.00E-001");
        Assert.AreEqual(0, CliRun.Of("compare", "--expected", a, "--actual", c, "--tolerance", "0.2").ExitCode);
    }

    [TestMethod]
    public void Compare_DifferentShapes_ExitsTwoInOneLine()
    {
        string dir = TestPaths.TempDir();
        string a = Path.Combine(dir, "a.npy"), b = Path.Combine(dir, "b.npy");
        Clrp.Onnx.Tensors.NpyFile.Write(a, new Clrp.Onnx.Tensors.Tensor([1f, 2f], [2]));
        Clrp.Onnx.Tensors.NpyFile.Write(b, new Clrp.Onnx.Tensors.Tensor([1f, 2f], [1, 2]));
        CliRun.Of("compare", "--expected", a, "--actual", b).AssertBadInput("shape");
    }
}
