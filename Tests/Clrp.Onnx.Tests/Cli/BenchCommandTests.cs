using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp bench</c> runs end to end and prints every row and ratio; speed itself is never asserted.</summary>
[TestClass]
public sealed class BenchCommandTests
{
    [TestMethod]
    public void Bench_FashionVgg_PrintsEveryRowAndRatio()
    {
        CliRun run = CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--methods", "lrp,clrp1", "--runs", "1", "--batch", "2", "--top-k", "3");
        run.AssertSuccess();
        foreach (string row in new[] { "forward (plain ORT)", "forward ×2 (plain ORT)", "capture (augmented model)", "lrp ", "lrp top-3", "lrp ×2", "clrp1 ", "clrp1/lrp:", "top-3/one (lrp):", "batch-2/image ÷ batch-1 (lrp):", "peak memory:" })
        {
            StringAssert.Contains(run.Stdout, row);
        }
    }

    [TestMethod]
    public void Bench_UnknownMethod_ExitsTwoInOneLine()
    {
        CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--methods", "lrp,magic").AssertBadInput("magic");
    }

    [TestMethod]
    public void Bench_MissingModel_ExitsTwoInOneLine()
    {
        CliRun.Of("bench", "--model", "no-such-model.onnx").AssertBadInput("no-such-model.onnx");
    }
}
