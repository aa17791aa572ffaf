using Clrp.Cli;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>One in-process run of <c>clrp</c>: exit code and what it printed.</summary>
internal sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The non-empty lines written to stderr.</summary>
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Runs <see cref="CliApp.Run"/> with <paramref name="args"/>, capturing both streams.</summary>
    public static CliRun Of(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Asserts exit code 2 and exactly one stderr line <c>clrp: error: …</c> holding every fragment.</summary>
    public void AssertBadInput(params string[] fragments)
    {
        Assert.AreEqual(2, ExitCode, $"stdout: {Stdout}\nstderr: {Stderr}");
        Assert.HasCount(1, StderrLines, Stderr);
        StringAssert.StartsWith(StderrLines[0], "clrp: error: ");
        foreach (string fragment in fragments)
        {
            StringAssert.Contains(StderrLines[0], fragment);
        }
    }

    /// <summary>Asserts exit code 0 and shows both streams when it is not.</summary>
    public void AssertSuccess() => Assert.AreEqual(0, ExitCode, $"stdout: {Stdout}\nstderr: {Stderr}");
}
