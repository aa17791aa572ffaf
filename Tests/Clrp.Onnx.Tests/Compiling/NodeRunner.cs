using System.Diagnostics;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Runs <c>scripts/node/run-explainer.mjs</c> (onnxruntime-node from npm, installed by <c>.ci/run</c> with <c>npm ci</c>):
/// an exported explainer executed by another ONNX Runtime than the one .NET uses.
/// </summary>
internal static class NodeRunner
{
    /// <summary>The repository's root (the folder holding ClrpMl.sln), found from the test assembly upwards.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "ClrpMl.sln")))
                {
                    return d.FullName;
                }
            }

            throw new InvalidOperationException($"no ClrpMl.sln above {AppContext.BaseDirectory}.");
        }
    }

    public static string ScriptFolder => Path.Combine(RepositoryRoot, "scripts", "node");

    /// <summary>Runs the script; returns its stdout, failing the test with its stderr when it fails.</summary>
    public static string Run(string model, string input, string prefix, string targets)
    {
        Assert.IsTrue(Directory.Exists(Path.Combine(ScriptFolder, "node_modules", "onnxruntime-node")),
            $"onnxruntime-node is not installed: run `npm ci` in {ScriptFolder} (.ci/run does).");
        var start = new ProcessStartInfo("node", [Path.Combine(ScriptFolder, "run-explainer.mjs"), model, input, prefix, targets])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = ScriptFolder,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        // Both streams are read while the process runs, so a full pipe cannot block it, and the wait has a deadline.
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node run-explainer.mjs {model} did not finish in 3 minutes.");
        }

        Task.WaitAll(stdout, stderr);
        Assert.AreEqual(0, process.ExitCode, $"node run-explainer.mjs {model} failed: {stderr.Result}");
        return stdout.Result;
    }
}
