using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// Every <c>clrp explain</c> argument is validated into exit 2 and one line naming the option (issue 12, item 3): the
/// cases that used to exit 1 (<c>--out ''</c>, <c>--heatmap ''</c>, <c>--top-k 2147483647</c>) and their neighbours.
/// </summary>
[TestClass]
public sealed class ArgumentValidationTests
{
    private static string Input => TestPaths.Fixture("reference", "input.npy");

    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    [DataRow("--out", "", "--out", "empty")]
    [DataRow("--out", "   ", "--out", "empty")]
    [DataRow("--heatmap", "", "--heatmap", "empty")]
    [DataRow("--model", "", "--model", "empty")]
    [DataRow("--input", "", "--input", "empty")]
    [DataRow("--top-k", "2147483647", "top-k", "10")]
    [DataRow("--top-k", "11", "top-k", "10")]
    [DataRow("--top-k", "0", "--top-k", "≥ 1")]
    [DataRow("--target", "-1", "--target", "≥ 0")]
    [DataRow("--target", "2147483648", "--target", "integers")]
    [DataRow("--epsilon", "NaN", "--epsilon", "finite")]
    [DataRow("--epsilon", "-1e-3", "ε", "-0.001")]
    [DataRow("--epsilon", "Infinity", "--epsilon", "finite")]
    [DataRow("--gamma", "NaN", "--gamma", "finite")]
    [DataRow("--gamma", "-0.5", "γ", "-0.5")]
    [DataRow("--size", "0,28", "--size", "≥ 1")]
    [DataRow("--size", "28", "--size", "two")]
    [DataRow("--size", "99999999999,28", "--size", "integers")]
    [DataRow("--device", "cuda:-1", "cuda:-1", "")]
    [DataRow("--dual-seed", "both", "--dual-seed", "uniform")]
    public void Explain_BadArgument_ExitsTwoNamingIt(string option, string value, string fragment, string detail)
    {
        string[] args = ["explain", "--model", TestPaths.FashionVgg, "--input", Input, "--rules", "epsilon-gamma-box"];
        int at = Array.IndexOf(args, option);
        if (at >= 0)
        {
            args[at + 1] = value;
        }
        else
        {
            args = [.. args, option, value];
        }

        CliRun.Of(args).AssertBadInput(fragment, detail);
    }

    [TestMethod]
    public void Explain_OutIsAFolder_ExitsTwo()
    {
        Explain("--out", _dir).AssertBadInput("--out", "folder");
        Assert.IsEmpty(Directory.GetFileSystemEntries(_dir));
    }

    [TestMethod]
    public void Explain_OutAndHeatmapTheSameFile_ExitsTwoWritingNothing()
    {
        string path = Path.Combine(_dir, "both.png");
        Explain("--out", path, "--heatmap", path).AssertBadInput("same file");
        Assert.IsEmpty(Directory.GetFileSystemEntries(_dir));
    }

    [TestMethod]
    public void Library_TopKFarAboveTheClassCount_InvalidTargetBeforeAllocating()
    {
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg);
        Tensor x = NpyFile.Read(Input);

        var e = Assert.ThrowsExactly<InvalidTargetException>(() => explainer.Explain(x, Target.TopK(int.MaxValue)));

        StringAssert.Contains(e.Message, "2147483647");
        StringAssert.Contains(e.Message, "10");
    }

    private CliRun Explain(params string[] more) => CliRun.Of(["explain", "--model", TestPaths.FashionVgg, "--input", Input, .. more]);
}
