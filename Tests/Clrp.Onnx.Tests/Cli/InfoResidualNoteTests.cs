using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp info</c> on a model with residual sums: each sum's sharing, and the note that points ResNets at paper-zplus-sums.</summary>
[TestClass]
public sealed class InfoResidualNoteTests
{
    [TestMethod]
    public void Info_ResNetUnderPaper_NotesTheResidualSumsAndTheRemedy()
    {
        CliRun run = CliRun.Of("info", "--model", TestPaths.Model("fashion-pair-resnet.onnx"));

        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "note:      3 residual sum(s) share relevance by Norm (paper)");
        StringAssert.Contains(run.Stdout, "--rules paper-zplus-sums");
        Assert.AreEqual(3, run.Stdout.Split('\n').Count(l => l.TrimEnd().EndsWith("residual sum, norm", StringComparison.Ordinal)), run.Stdout);
    }

    [TestMethod]
    public void Info_ResNetUnderPaperZPlusSums_NoNote()
    {
        CliRun run = CliRun.Of("info", "--model", TestPaths.Model("fashion-pair-resnet.onnx"), "--rules", "paper-zplus-sums");

        run.AssertSuccess();
        Assert.DoesNotContain("note:", run.Stdout);
        Assert.AreEqual(3, run.Stdout.Split('\n').Count(l => l.TrimEnd().EndsWith("residual sum, z+", StringComparison.Ordinal)), run.Stdout);
    }

    [TestMethod]
    public void Info_ModelWithoutResidualSums_NoNote()
    {
        CliRun run = CliRun.Of("info", "--model", TestPaths.FashionVgg);

        run.AssertSuccess();
        Assert.DoesNotContain("note:", run.Stdout);
    }
}
