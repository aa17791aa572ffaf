using System.Collections.Concurrent;
using Clrp.Batch;
using Clrp.Cluster.Commands;
using Clrp.Cluster.Grains;
using Clrp.Cluster.Hosting;
using Clrp.Cluster.Work;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Persistence.FileStorage;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Clrp.Cluster.Tests.Support;

/// <summary>A hook run by a worker before it reads an input: the silo it runs on, the input, the worker's stop token.</summary>
internal delegate void InputHook(SiloAddress silo, ManifestEntry entry, CancellationToken stop);

/// <summary>
/// An in-process Orleans cluster (Microsoft.Orleans.TestingHost) of explain silos. Job state lives in Orleans' file
/// grain storage under <see cref="StorageDir"/> (so it outlives the cluster: a restart resumes), or in PostgreSQL
/// together with the membership when a connection string is given.
/// </summary>
internal sealed class ExplainCluster : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<string, InputHook> Hooks = new();
    private readonly string _hookId;

    private ExplainCluster(TestCluster cluster, string? storageDir, string hookId)
    {
        Cluster = cluster;
        StorageDir = storageDir;
        _hookId = hookId;
    }

    public TestCluster Cluster { get; }

    public string? StorageDir { get; }

    /// <summary>Called by every worker before it reads an input; null = none.</summary>
    public InputHook? Hook
    {
        set
        {
            if (value is null)
            {
                Hooks.TryRemove(_hookId, out _);
            }
            else
            {
                Hooks[_hookId] = value;
            }
        }
    }

    /// <summary>Starts <paramref name="silos"/> silos.</summary>
    /// <param name="silos">Silo count.</param>
    /// <param name="storageDir">File storage folder for job state (ignored with <paramref name="postgres"/>).</param>
    /// <param name="serviceId">The service id: the same id and storage make a restarted cluster see the same jobs.</param>
    /// <param name="lease">Lease duration.</param>
    /// <param name="workers">Workers per silo.</param>
    /// <param name="postgres">A PostgreSQL connection string for membership and storage, or null.</param>
    /// <param name="hook">A hook installed before the silos start, or null.</param>
    public static async Task<ExplainCluster> StartAsync(int silos, string? storageDir, string serviceId, TimeSpan lease, int workers = 1, string? postgres = null, InputHook? hook = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.Options.UseTestClusterMembership = postgres is null;
        string hookId = Guid.NewGuid().ToString("N");
        builder.Properties["Clrp:StorageDir"] = storageDir ?? string.Empty;
        builder.Properties["Clrp:Postgres"] = postgres ?? string.Empty;
        builder.Properties["Clrp:LeaseSeconds"] = lease.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["Clrp:Workers"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture);
        builder.Properties["Clrp:Hook"] = hookId;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        TestCluster cluster = builder.Build();
        var result = new ExplainCluster(cluster, storageDir, hookId) { Hook = hook };
        await cluster.DeployAsync();
        return result;
    }

    /// <summary>Prepares and submits a job (writes job.json like batch mode).</summary>
    public Task<JobStatus> SubmitAsync(string jobId, BatchSettings settings, string inputs, string outDir, int shardSize) =>
        JobSubmission.SubmitAsync(Cluster.Client, jobId, JobSubmission.Prepare(settings, inputs, outDir, shardSize));

    /// <summary>Waits until the job is completed, failing the test after <paramref name="timeout"/>.</summary>
    public async Task<JobStatus> WaitAsync(string jobId, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            return await JobSubmission.WaitAsync(Cluster.Client, jobId, TimeSpan.FromMilliseconds(100), null, cancel.Token);
        }
        catch (OperationCanceledException)
        {
            JobStatus now = await Cluster.Client.GetGrain<IJobGrain>(jobId).GetStatus();
            Assert.Fail($"job {jobId} did not complete within {timeout}: {JobSubmission.Describe(now)}");
            throw;
        }
    }

    /// <summary>Polls the job until <paramref name="condition"/> holds.</summary>
    public async Task<JobStatus> WaitUntilAsync(string jobId, Func<JobStatus, bool> condition, TimeSpan timeout)
    {
        DateTime end = DateTime.UtcNow + timeout;
        while (true)
        {
            JobStatus status = await Cluster.Client.GetGrain<IJobGrain>(jobId).GetStatus();
            if (condition(status))
            {
                return status;
            }

            if (DateTime.UtcNow > end)
            {
                Assert.Fail($"job {jobId}: condition not reached within {timeout}: {JobSubmission.Describe(status)}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Hook = null;
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        finally
        {
            await Cluster.DisposeAsync();
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder silo)
        {
            IConfiguration config = silo.Configuration;
            string postgres = config["Clrp:Postgres"] ?? string.Empty;
            if (postgres.Length > 0)
            {
                silo.UsePostgresClustering(postgres).AddPostgresJobStorage(postgres);
            }
            else
            {
                silo.AddFileGrainStorage(JobGrain.Storage, o => o.RootDirectory = config["Clrp:StorageDir"]!);
            }

            string hookId = config["Clrp:Hook"]!;
            silo.AddExplainWorkers(
                w => (w.Workers, w.BatchSize, w.IdlePoll) = (int.Parse(config["Clrp:Workers"]!, System.Globalization.CultureInfo.InvariantCulture), 8, TimeSpan.FromMilliseconds(100)),
                TimeSpan.FromSeconds(double.Parse(config["Clrp:LeaseSeconds"]!, System.Globalization.CultureInfo.InvariantCulture)));
            silo.Services.AddOptions<WorkerOptions>().Configure<ILocalSiloDetails>((w, details) =>
                w.BeforeInput = (entry, stop) =>
                {
                    if (Hooks.TryGetValue(hookId, out InputHook? hook))
                    {
                        hook(details.SiloAddress, entry, stop);
                    }
                });
            // Declare a vanished silo dead within seconds rather than a minute.
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = TimeSpan.FromSeconds(1);
                o.NumMissedProbesLimit = 2;
                o.NumVotesForDeathDeclaration = 1;
                o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            });
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder client)
        {
            string postgres = configuration["Clrp:Postgres"] ?? string.Empty;
            if (postgres.Length > 0)
            {
                client.UsePostgresClustering(postgres);
            }

            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        }
    }
}
