using System.CommandLine;
using System.Diagnostics;
using Clrp.Batch;
using Clrp.Cluster.Grains;

namespace Clrp.Cluster.Commands;

/// <summary>
/// <c>clrp-cluster submit</c>: the options of <c>clrp explain --inputs … --out-dir …</c> plus the job's name; with
/// <c>--wait</c>, progress on stderr until results.csv is written.
/// </summary>
internal static class SubmitCommand
{
    private static readonly Dictionary<string, string> Help = new()
    {
        ["--model"] = "The ONNX classifier (a path every silo reaches).",
        ["--method"] = "lrp, clrp1, clrp2, sglrp, gradient, gradient-input (as clrp explain).",
        ["--rules"] = "The rule composite (as clrp explain).",
        ["--low"] = "z^B lower bound(s).", ["--high"] = "z^B upper bound(s).",
        ["--mean"] = "Per-channel mean of the preprocessing; normalises pictures and sets the z^B bounds.",
        ["--std"] = "Per-channel standard deviation of that preprocessing.",
        ["--dual-seed"] = "uniform or logits.", ["--epsilon"] = "ε of the ε rule.", ["--gamma"] = "γ of the γ rule.",
        ["--output"] = "The tensor to explain (default: the logits).", ["--size"] = "Resize pictures to W,H.",
        ["--target"] = "The class to explain for every input.", ["--top-k"] = "Explain the N highest-scoring classes.",
        ["--engine"] = "auto, compiled or managed (as clrp explain).",
    };

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        Option<string> postgres = ClusterApp.PostgresOption(), clusterId = ClusterApp.ClusterIdOption();
        var job = new Option<string>("--job") { Description = "The job's name; submitting the same job again is harmless, another job under the name is refused.", Required = true, HelpName = "NAME" };
        var inputs = new Option<string>("--inputs") { Description = "A folder, a list of paths or a CSV manifest (path[,target]), reachable by every silo.", Required = true, HelpName = "DIR|list.txt|manifest.csv" };
        var outDir = new Option<string>("--out-dir") { Description = "The output folder, shared by every silo; the same layout as clrp explain --inputs.", Required = true, HelpName = "DIR" };
        var shardSize = new Option<int>("--shard-size") { Description = "Inputs per shard, the unit a silo pulls.", DefaultValueFactory = _ => 32 };
        var noHeatmaps = new Option<bool>("--no-heatmaps") { Description = "Write the relevance .npy files only." };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job is completed, with progress on stderr." };
        Dictionary<string, Option<string>> explain = BatchOptionText.Defaults.Keys.ToDictionary(name => name, name => new Option<string>(name) { Description = Help[name] });
        var command = new Command("submit", "Submit a batch job: every input gets its relevance maps and heatmaps, and the job's results.csv.")
        {
            postgres, clusterId, job, inputs, outDir, shardSize, noHeatmaps, wait,
        };
        foreach (Option<string> option in explain.Values)
        {
            command.Add(option);
        }

        command.SetAction(p =>
        {
            BatchSettings settings = BatchOptionText.Parse(name => p.GetValue(explain[name]), heatmaps: !p.GetValue(noHeatmaps));
            JobSpec spec = JobSubmission.Prepare(settings, p.GetValue(inputs)!, p.GetValue(outDir)!, p.GetValue(shardSize));
            string name = p.GetValue(job)!;
            return ClusterClient.With(ClusterApp.RequirePostgres(p.GetValue(postgres)!), p.GetValue(clusterId)!, async client =>
            {
                JobStatus status = await JobSubmission.SubmitAsync(client, name, spec);
                stdout.WriteLine(JobSubmission.Describe(status));
                return p.GetValue(wait) ? await StatusCommand.WaitAndReport(client, name, status, stdout, stderr) : 0;
            }).GetAwaiter().GetResult();
        });
        return command;
    }
}
