using Clrp.Cluster.Commands;
using Clrp.Cluster.Grains;
using Clrp.Cluster.Tests.Support;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Clrp.Cluster.Tests;

/// <summary>
/// The production setup: membership and job state in PostgreSQL through Orleans' ADO.NET providers and our schema
/// (Samples/Clrp.Cluster/Sql). Needs $CLRP_TEST_POSTGRES (a connection string; <c>.ci/run</c> starts a server with
/// scripts/cluster/postgres.sh and sets it). Without it the test is skipped, unless $CLRP_REQUIRE_POSTGRES=1 (CI),
/// where it fails.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class PostgresClusterTests
{
    [TestMethod]
    public async Task OnPostgres_SiloKilledThenWholeClusterRestarted_CompletesEqualToBatchMode()
    {
        string postgres = ConnectionOrSkip();
        string outDir = TestInputs.TempDir("postgres");
        string serviceId = "pg-" + Guid.NewGuid().ToString("N");
        TimeSpan lease = TimeSpan.FromSeconds(5);
        JobStatus before;
        Dictionary<string, DateTime> finishedBefore;
        await using (ExplainCluster first = await ExplainCluster.StartAsync(3, null, serviceId, lease, postgres: postgres))
        {
            SiloAddress primary = first.Cluster.Silos[0].SiloAddress;
            var stuck = new TaskCompletionSource<SiloAddress>(TaskCreationOptions.RunContinuationsAsynchronously);
            var freeze = new ManualResetEventSlim();
            first.Hook = (silo, _, stop) =>
            {
                // The first input a secondary silo reads holds that worker until its silo is killed; once enough shards
                // are done, every worker stops where it is until the whole cluster is killed.
                if ((!silo.Equals(primary) && stuck.TrySetResult(silo!)) || freeze.IsSet)
                {
                    stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
                    stop.ThrowIfCancellationRequested();
                }

                Thread.Sleep(5);
            };
            await first.SubmitAsync("pg", ReferenceJob.Settings, ReferenceJob.InputFolder, outDir, shardSize: 10);
            SiloAddress victim = await stuck.Task.WaitAsync(TimeSpan.FromMinutes(1));
            await first.Cluster.KillSiloAsync(first.Cluster.GetSiloForAddress(victim) ?? throw new AssertFailedException("the stuck silo is not in the cluster"));
            before = await first.WaitUntilAsync("pg", s => s.ShardsDone >= 6, TimeSpan.FromMinutes(2));
            freeze.Set();
            foreach (SiloHandle silo in first.Cluster.GetActiveSilos().ToList())
            {
                await first.Cluster.KillSiloAsync(silo);
            }

            finishedBefore = ClusterJobTests.Records(outDir);
        }

        Assert.IsLessThan(20, before.ShardsDone, "the cluster stopped mid-job");
        await using ExplainCluster second = await ExplainCluster.StartAsync(3, null, serviceId, lease, postgres: postgres);
        JobStatus resumed = await second.Cluster.Client.GetGrain<IJobGrain>("pg").GetStatus();
        // The first silo up may finish the job before the others have joined: any state but "unknown" means it came back.
        Assert.AreNotEqual("unknown", resumed.State, "the job state came back from PostgreSQL without resubmitting it");
        Assert.IsGreaterThanOrEqualTo(before.ShardsDone, resumed.ShardsDone);

        JobStatus done = await second.WaitAsync("pg", TimeSpan.FromMinutes(3));
        Assert.AreEqual(ReferenceJob.Inputs, done.ResultsOk, JobSubmission.Describe(done));
        Assert.IsGreaterThanOrEqualTo(1, done.RetriedShards);
        foreach ((string record, DateTime written) in finishedBefore)
        {
            Assert.AreEqual(written, File.GetLastWriteTimeUtc(record), $"{record} was finished before the restart and must not be redone");
        }

        Trees.AssertSame(ReferenceJob.ReferenceFolder, outDir);
    }

    private static string ConnectionOrSkip()
    {
        string? connection = Environment.GetEnvironmentVariable("CLRP_TEST_POSTGRES");
        if (!string.IsNullOrWhiteSpace(connection))
        {
            return connection;
        }

        const string why = "CLRP_TEST_POSTGRES is not set: start PostgreSQL with 'scripts/cluster/postgres.sh start' and set CLRP_TEST_POSTGRES to the connection string it prints (.ci/run does both).";
        if (Environment.GetEnvironmentVariable("CLRP_REQUIRE_POSTGRES") == "1")
        {
            Assert.Fail(why);
        }

        Assert.Inconclusive(why);
        return string.Empty;
    }
}
