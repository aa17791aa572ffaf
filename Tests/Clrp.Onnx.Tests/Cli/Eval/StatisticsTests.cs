using Clrp.Cli.Evaluation;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>Confidence intervals over scenes and the progress reporter's quiet and periodic modes.</summary>
[TestClass]
public sealed class StatisticsTests
{
    [TestMethod]
    public void MeanInterval_StudentT95_OnAKnownSample()
    {
        // mean 0.5, s = 0.57735, t(0.975, 3) = 3.182446: half width 3.182446 · 0.57735 / 2 = 0.918693.
        MeanInterval ci = MeanInterval.Of([0.0, 1.0, 0.0, 1.0]);

        Assert.AreEqual(0.5, ci.Mean, 1e-12);
        Assert.AreEqual(0.5 - 0.918693, ci.Low, 1e-5);
        Assert.AreEqual(0.5 + 0.918693, ci.High, 1e-5);
        Assert.AreEqual("0.500 [-0.419, 1.419]", ci.Format());
    }

    [TestMethod]
    public void MeanInterval_OneValue_HasNoInterval_ConstantSampleHasAZeroWidthOne()
    {
        Assert.AreEqual("0.250 [n/a]", MeanInterval.Of([0.25]).Format());
        MeanInterval constant = MeanInterval.Of([1.0, 1.0, 1.0]);
        Assert.AreEqual(1.0, constant.Low, 1e-12);
        Assert.AreEqual(1.0, constant.High, 1e-12);
    }

    [TestMethod]
    public void ProgressReporter_OffATerminal_IsQuietWithinTheInterval()
    {
        using var stderr = new StringWriter();
        var progress = new ProgressReporter(stderr, "rows", 10);

        for (int i = 0; i < 10; i++)
        {
            progress.Advance();
        }

        progress.Finish();
        Assert.AreEqual(string.Empty, stderr.ToString());
    }

    [TestMethod]
    public void ProgressReporter_OffATerminal_WritesOneLinePerInterval()
    {
        using var stderr = new StringWriter();
        var progress = new ProgressReporter(stderr, "rows", 4, terminal: false, lineInterval: TimeSpan.Zero);
        progress.Resume(2);

        progress.Advance();
        progress.Advance();

        string[] lines = stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(2, lines);
        StringAssert.StartsWith(lines[0], "clrp: 3/4 rows (75%)");
        StringAssert.StartsWith(lines[1], "clrp: 4/4 rows (100%)");
    }

    [TestMethod]
    public void ProgressReporter_OnATerminal_RedrawsOneBarLine()
    {
        using var stderr = new StringWriter();
        var progress = new ProgressReporter(stderr, "rows", 2, terminal: true);

        progress.Advance(2);
        progress.Finish();

        string text = stderr.ToString();
        StringAssert.StartsWith(text, "\r[############################] 2/2 rows (100%)");
        Assert.AreEqual(1, text.Count(c => c == '\n'), "the bar ends with one line break");
    }
}
