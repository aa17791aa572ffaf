using Clrp.Onnx.Planning;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp info</c>: the graph summary, one table row per node with its role, and <c>--strict</c>.</summary>
[TestClass]
public sealed class InfoCommandTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Info_FashionVgg_ListsEveryNodeWithItsRule()
    {
        CliRun run = CliRun.Of("info", "--model", TestPaths.FashionVgg);

        run.AssertSuccess();
        ModelReport report = ClrpExplainer.Inspect(TestPaths.FashionVgg);
        string[] lines = run.Stdout.Split('\n');
        foreach (NodeReport node in report.Nodes)
        {
            Assert.IsTrue(lines.Any(l => l.Contains(node.Node.Name, StringComparison.Ordinal) && l.Contains(node.Node.OpType, StringComparison.Ordinal) && l.TrimEnd().EndsWith(node.Role, StringComparison.Ordinal)),
                $"no row for {node.Node.Name} ({node.Node.OpType}): {node.Role}\n{run.Stdout}");
        }

        foreach (string expected in new[] { "opsets:    ai.onnx 13", "'input' float32 [?,1,28,28]", "probabilities", "rule zbox (first layer)", "rule zplus", "after the explained output", "Conv 4", "all supported" })
        {
            StringAssert.Contains(run.Stdout, expected);
        }

        Assert.AreEqual($"explained: {report.Nodes.Count}/{report.Nodes.Count} nodes; refused op types: none", run.Stdout.TrimEnd().Split('\n')[^1].TrimEnd());
    }

    [TestMethod]
    public void Info_EpsilonPlusRules_ShowsEpsilonOnDenseLayers()
    {
        CliRun run = CliRun.Of("info", "--model", TestPaths.FashionVgg, "--rules", "epsilon-plus", "--strict");

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "rule epsilon");
        StringAssert.Contains(run.Stdout, "rules:     epsilon-plus");
    }

    [TestMethod]
    public void Info_UnsupportedOperator_ListsItAndExitsZero()
    {
        CliRun run = CliRun.Of("info", "--model", CliErrorTests.SinModel(_dir));

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "unsupported: ");
        StringAssert.Contains(run.Stdout, "1 unsupported");
        string last = run.Stdout.TrimEnd().Split('\n')[^1].TrimEnd();
        StringAssert.EndsWith(last, "nodes; refused op types: Sin (1)");
        ModelReport report = ClrpExplainer.Inspect(CliErrorTests.SinModel(_dir));
        Assert.AreEqual($"explained: {report.Nodes.Count - 1}/{report.Nodes.Count} nodes; refused op types: Sin (1)", last);
    }

    [TestMethod]
    public void Info_UnsupportedOperatorStrict_ExitsTwoInOneLine()
    {
        CliRun run = CliRun.Of("info", "--model", CliErrorTests.SinModel(_dir), "--strict");

        run.AssertBadInput("Sin", "--strict");
        StringAssert.Contains(run.Stdout, "unsupported: ");
    }

    [TestMethod]
    public void Info_MissingModel_ExitsTwo()
    {
        CliRun.Of("info", "--model", Path.Combine(_dir, "none.onnx")).AssertBadInput("none.onnx");
    }
}
