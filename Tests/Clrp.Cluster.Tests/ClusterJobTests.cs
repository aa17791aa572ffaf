using Clrp.Batch;
using Clrp.Cluster.Grains;
using Clrp.Cluster.Tests.Support;
using Clrp.Onnx.Execution;
using Clrp.Cluster.Commands;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Clrp.Cluster.Tests;

/// <summary>
/// The batch job on an in-process 3-silo Orleans cluster (job state in Orleans' file grain storage, which outlives a
/// cluster), against the same job in batch mode on one machine: the output folders must be equal byte for byte.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterJobTests
{
    private const int Inputs = ReferenceJob.Inputs;

    private static BatchSettings Settings => ReferenceJob.Settings;

    private static string InputFolder => ReferenceJob.InputFolder;

    private static string ReferenceFolder => ReferenceJob.ReferenceFolder;

    [TestMethod]
    public async Task ThreeSilos_ExplainTwoHundredInputs_EqualBatchModeByteForByte()
    {
        string outDir = TestInputs.TempDir("three-silos");
        await using ExplainCluster cluster = await ExplainCluster.StartAsync(3, TestInputs.TempDir("storage"), "three-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(30));
        var silosUsed = new System.Collections.Concurrent.ConcurrentDictionary<SiloAddress, int>();
        cluster.Hook = (silo, _, _) => silosUsed.AddOrUpdate(silo, 1, (_, n) => n + 1);

        JobStatus submitted = await cluster.SubmitAsync("three", Settings, InputFolder, outDir, shardSize: 10);
        JobStatus done = await cluster.WaitAsync("three", TimeSpan.FromMinutes(3));

        Assert.AreEqual(20, submitted.Shards);
        Assert.AreEqual(Inputs, done.Explained + done.Reused, JobSubmission.Describe(done));
        Assert.AreEqual(Inputs, done.ResultsOk);
        Assert.HasCount(3, silosUsed.Keys, "every silo pulled shards");
        Trees.AssertSame(ReferenceFolder, outDir);
    }

    [TestMethod]
    public async Task SiloKilledMidShard_JobCompletesWithIdenticalOutputs()
    {
        string outDir = TestInputs.TempDir("killed");
        await using ExplainCluster cluster = await ExplainCluster.StartAsync(3, TestInputs.TempDir("storage"), "kill-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(5));
        SiloAddress primary = cluster.Cluster.Primary?.SiloAddress ?? throw new AssertFailedException("no primary silo");
        var stuck = new TaskCompletionSource<SiloAddress>(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Hook = (silo, _, stop) =>
        {
            // The first input a secondary silo reads: hold that worker mid-shard until its silo is killed.
            if (!silo.Equals(primary) && stuck.TrySetResult(silo!))
            {
                stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
                stop.ThrowIfCancellationRequested();
            }
        };

        await cluster.SubmitAsync("kill", Settings, InputFolder, outDir, shardSize: 10);
        SiloAddress victim = await stuck.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await cluster.Cluster.KillSiloAsync(cluster.Cluster.GetSiloForAddress(victim) ?? throw new AssertFailedException("the stuck silo is not in the cluster"));
        JobStatus done = await cluster.WaitAsync("kill", TimeSpan.FromMinutes(3));

        Assert.IsGreaterThanOrEqualTo(1, done.RetriedShards, "the killed silo's shard was run again elsewhere: " + JobSubmission.Describe(done));
        Assert.IsEmpty(done.Poisoned, "one lost lease poisons nothing");
        Assert.AreEqual(Inputs, done.ResultsOk);
        Trees.AssertSame(ReferenceFolder, outDir);
    }

    [TestMethod]
    public async Task WholeClusterRestarted_JobResumesFromDurableState()
    {
        string outDir = TestInputs.TempDir("restarted"), storage = TestInputs.TempDir("storage");
        string serviceId = "restart-" + Guid.NewGuid().ToString("N");
        JobStatus before;
        Dictionary<string, DateTime> finishedBefore;
        await using (ExplainCluster first = await ExplainCluster.StartAsync(3, storage, serviceId, TimeSpan.FromSeconds(10)))
        {
            var freeze = new ManualResetEventSlim();
            first.Hook = (_, _, stop) =>
            {
                // Once enough shards are done, every worker stops where it is, as a machine would at a power cut.
                if (freeze.IsSet)
                {
                    stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(1));
                    stop.ThrowIfCancellationRequested();
                }

                Thread.Sleep(5);
            };
            await first.SubmitAsync("restart", Settings, InputFolder, outDir, shardSize: 10);
            before = await first.WaitUntilAsync("restart", s => s.ShardsDone >= 5, TimeSpan.FromMinutes(2));
            freeze.Set();
            foreach (SiloHandle silo in first.Cluster.GetActiveSilos().ToList())
            {
                await first.Cluster.KillSiloAsync(silo);
            }

            finishedBefore = Records(outDir);
        }

        Assert.IsLessThan(20, before.ShardsDone, "the cluster stopped mid-job");
        await using ExplainCluster second = await ExplainCluster.StartAsync(3, storage, serviceId, TimeSpan.FromSeconds(10));
        JobStatus resumed = await second.Cluster.Client.GetGrain<IJobGrain>("restart").GetStatus();
        // The first silo up may finish the job before the others have joined: any state but "unknown" means it came back.
        Assert.AreNotEqual("unknown", resumed.State, "the job is found again without resubmitting it");
        Assert.IsGreaterThanOrEqualTo(before.ShardsDone, resumed.ShardsDone, "finished shards are remembered");

        JobStatus done = await second.WaitAsync("restart", TimeSpan.FromMinutes(3));
        Assert.AreEqual(Inputs, done.ResultsOk);
        foreach ((string record, DateTime written) in finishedBefore)
        {
            Assert.AreEqual(written, File.GetLastWriteTimeUtc(record), $"{record} was finished before the restart and must not be redone");
        }

        Trees.AssertSame(ReferenceFolder, outDir);
    }

    [TestMethod]
    public async Task PoisonedInputs_AreReportedAndSkipped()
    {
        // 30 scenes, four bad files (become error rows everywhere) and one input that hangs every worker that reads it.
        string inputs = TestInputs.WriteScenes(TestInputs.TempDir("poison-inputs"), 30);
        string[] bad = TestInputs.WriteBadFiles(inputs);
        File.Copy(Path.Combine(inputs, "scene-0007.png"), Path.Combine(inputs, "poison-hang.png"));
        string reference = TestInputs.TempDir("poison-reference"), outDir = TestInputs.TempDir("poison");
        BatchJob.Run(Settings, inputs, reference, 8, Device.Cpu, null, null);

        await using ExplainCluster cluster = await ExplainCluster.StartAsync(3, TestInputs.TempDir("storage"), "poison-" + Guid.NewGuid().ToString("N"), TimeSpan.FromSeconds(3), workers: 2);
        cluster.Hook = (_, entry, stop) =>
        {
            if (entry.Name == "poison-hang.png")
            {
                stop.WaitHandle.WaitOne(TimeSpan.FromMinutes(2));
                stop.ThrowIfCancellationRequested();
            }
        };
        await cluster.SubmitAsync("poison", Settings, inputs, outDir, shardSize: 8);
        JobStatus done = await cluster.WaitAsync("poison", TimeSpan.FromMinutes(3));

        InputManifest manifest = InputManifest.Resolve(inputs);
        int poison = manifest.Entries.Single(e => e.Name == "poison-hang.png").Index;
        Assert.HasCount(1, done.Poisoned, JobSubmission.Describe(done));
        Assert.IsTrue(done.Poisoned.ContainsKey(poison));
        Assert.AreEqual(30, done.ResultsOk);
        Assert.AreEqual(bad.Length + 1, done.ResultsFailed);

        string[] expected = File.ReadAllLines(Path.Combine(reference, "results.csv"));
        string[] actual = File.ReadAllLines(Path.Combine(outDir, "results.csv"));
        Assert.HasCount(expected.Length, actual);
        for (int row = 0; row < expected.Length; row++)
        {
            if (row == poison + 1)
            {
                StringAssert.StartsWith(actual[row], "poison-hang.png,");
                StringAssert.Contains(actual[row], ",error: poisoned: explaining it was cut short 2 times", actual[row]);
            }
            else
            {
                Assert.AreEqual(expected[row], actual[row], $"row {row}");
            }
        }

        foreach (string name in bad)
        {
            StringAssert.Matches(actual.Single(l => l.StartsWith(name + ",", StringComparison.Ordinal)), new System.Text.RegularExpressions.Regex(",\"?error: "));
        }

        string poisonItem = OutputLayout.RelativeItemFolder(ContentHash.OfFile(Path.Combine(inputs, "poison-hang.png")));
        string sceneItem = OutputLayout.RelativeItemFolder(ContentHash.OfFile(Path.Combine(inputs, "scene-0007.png")));
        Assert.AreEqual(poisonItem, sceneItem, "the poisoned input is a copy of scene 7, whose outputs exist from its own row");
        Trees.AssertSame(reference, outDir, skip: name => name == "results.csv");
    }

    /// <summary>record.json of every finished item → its write time.</summary>
    internal static Dictionary<string, DateTime> Records(string outDir) =>
        Directory.EnumerateFiles(outDir, "record.json", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
}
