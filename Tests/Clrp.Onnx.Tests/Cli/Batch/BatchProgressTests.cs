using Clrp.Cli.Evaluation;

namespace Clrp.Onnx.Tests.Cli.Batch;

/// <summary>Batch mode's progress: inputs found finished move the count but not the rate.</summary>
[TestClass]
public sealed class BatchProgressTests
{
    [TestMethod]
    public void Skip_CountsFinishedInputs_AndTheLineShowsRateAndEta()
    {
        using var stderr = new StringWriter();
        var progress = new ProgressReporter(stderr, "inputs", 10, terminal: false, lineInterval: TimeSpan.Zero);

        progress.Skip(5);
        Thread.Sleep(20);
        progress.Advance(1);

        string line = stderr.ToString().Trim();
        StringAssert.StartsWith(line, "clrp: 6/10 inputs (60%), ");
        StringAssert.Matches(line, new System.Text.RegularExpressions.Regex(@", [0-9.]+/s, 0:00 elapsed, ETA [0-9]+:[0-9]{2}$"));
        double rate = double.Parse(line.Split(", ")[1].Split('/')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsLessThan(60.0, rate, "the rate counts the one input explained in ≥ 20 ms, not the five found finished");
    }
}
