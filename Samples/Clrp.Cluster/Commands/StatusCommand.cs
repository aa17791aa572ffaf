using System.CommandLine;
using System.Diagnostics;
using Clrp.Cluster.Grains;

namespace Clrp.Cluster.Commands;

/// <summary><c>clrp-cluster status</c>: where a job stands; with <c>--wait</c>, until it is completed.</summary>
internal static class StatusCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        Option<string> postgres = ClusterApp.PostgresOption(), clusterId = ClusterApp.ClusterIdOption();
        var job = new Option<string>("--job") { Description = "The job's name.", Required = true, HelpName = "NAME" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the job is completed, with progress on stderr." };
        var command = new Command("status", "Show a job's progress, poisoned inputs and, once completed, its results.csv.") { postgres, clusterId, job, wait };
        command.SetAction(p =>
        {
            string name = p.GetValue(job)!;
            return ClusterClient.With(ClusterApp.RequirePostgres(p.GetValue(postgres)!), p.GetValue(clusterId)!, async client =>
            {
                JobStatus status = await client.GetGrain<IJobGrain>(name).GetStatus();
                if (status.State == "unknown")
                {
                    return ClusterApp.Error(stderr, $"no job '{name}' in cluster '{p.GetValue(clusterId)}'.");
                }

                return p.GetValue(wait) ? await WaitAndReport(client, name, status, stdout, stderr) : Report(status, stdout, stderr);
            }).GetAwaiter().GetResult();
        });
        return command;
    }

    /// <summary>Waits with a progress line on stderr every few seconds, then reports.</summary>
    public static async Task<int> WaitAndReport(IClusterClient client, string name, JobStatus first, TextWriter stdout, TextWriter stderr)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan lastShown = TimeSpan.Zero;
        JobStatus final = await JobSubmission.WaitAsync(client, name, TimeSpan.FromSeconds(1), s =>
        {
            if (clock.Elapsed - lastShown >= TimeSpan.FromSeconds(5))
            {
                lastShown = clock.Elapsed;
                stderr.WriteLine("clrp-cluster: " + JobSubmission.Describe(s, clock, first.ShardsDone));
            }
        }, CancellationToken.None);
        return Report(final, stdout, stderr);
    }

    private static int Report(JobStatus status, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine(JobSubmission.Describe(status));
        foreach ((int index, string why) in status.Poisoned.OrderBy(p => p.Key))
        {
            stdout.WriteLine($"  input {index}: {why}");
        }

        if (status.State == "failed")
        {
            return ClusterApp.Error(stderr, $"job {status.JobId} failed: {status.Error}");
        }

        if (!status.IsCompleted)
        {
            return 0;
        }

        stdout.WriteLine($"results: {status.ResultsPath} ({status.ResultsOk} ok, {status.ResultsFailed} errors)");
        return status.ResultsFailed > 0
            ? ClusterApp.Error(stderr, $"{status.ResultsFailed} of {status.Total} inputs could not be explained; their rows in '{status.ResultsPath}' say why (status column).")
            : 0;
    }
}
