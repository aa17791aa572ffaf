using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli;

/// <summary><c>clrp bench</c> runs end to end and prints every row and ratio; speed itself is never asserted.</summary>
[TestClass]
public sealed class BenchCommandTests
{
    [TestMethod]
    public void Bench_FashionVgg_PrintsEveryRowAndRatioForBothEngines()
    {
        CliRun run = CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--methods", "lrp,clrp1", "--runs", "1", "--warmup", "1", "--batch", "2", "--top-k", "3");
        run.AssertSuccess();
        foreach (string row in new[] { "forward (plain ORT)", "forward ×2 (plain ORT)", "capture (augmented model)", "peak memory:" })
        {
            StringAssert.Contains(run.Stdout, row);
        }

        foreach (string engine in new[] { "compiled", "managed" })
        {
            foreach (string row in new[] { $"lrp [{engine}], load", $"lrp [{engine}], first", $"lrp [{engine}] ", $"lrp [{engine}] top-3", $"lrp [{engine}] ×2", $"clrp1 [{engine}] ", $"clrp1/lrp [{engine}]:", $"top-3/one (lrp) [{engine}]:", $"batch-2/image ÷ batch-1 (lrp) [{engine}]:" })
            {
                StringAssert.Contains(run.Stdout, row);
            }

            StringAssert.Contains(run.Stdout, $"ClrpExplainer.Load ({engine} engine: read ");
        }
    }

    [TestMethod]
    public void Bench_OneEngine_HasNoTagsAndNoCaptureRowForTheCompiledGraph()
    {
        CliRun run = CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--methods", "lrp", "--runs", "1", "--warmup", "1", "--batch", "2", "--top-k", "2", "--engine", "compiled");
        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "lrp top-2");
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"ClrpExplainer\.Load \(compiled engine: read \d+, plan \d+, shapes \d+, compile \d+, session \d+ ms\)"));
        Assert.IsFalse(run.Stdout.Contains("capture (augmented model)", StringComparison.Ordinal), run.Stdout);
        CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--engine", "gpu").AssertBadInput("--engine");
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

    [TestMethod]
    public void Bench_Profile_PrintsWhereTheWalkSpendsItsTimeForEachMethod()
    {
        CliRun run = CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--methods", "lrp,gradient", "--runs", "1", "--batch", "1", "--top-k", "1", "--rules", "epsilon", "--profile", "--engine", "managed");
        run.AssertSuccess();
        StringAssert.Contains(run.Stdout, "(rules epsilon)");
        StringAssert.Contains(run.Stdout, "profile of lrp (last timed run): capture");
        StringAssert.Contains(run.Stdout, "profile of gradient (last timed run): capture");
        // Every linear layer's input products are timed: the walk's Conv and Gemm transposed steps appear.
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"\n  Conv +transposed +[0-9.]+ +[0-9.]+ +4\n"));
        StringAssert.Matches(run.Stdout, new System.Text.RegularExpressions.Regex(@"\n  Gemm +transposed +[0-9.]+"));
    }

    [TestMethod]
    public void Bench_UnknownRules_ExitsTwoInOneLine()
    {
        CliRun.Of("bench", "--model", TestPaths.FashionVgg, "--rules", "magic").AssertBadInput("magic");
    }
}
