using Clrp.Cluster.Grains;
using Clrp.Cluster.Work;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;

namespace Clrp.Cluster.Hosting;

/// <summary>
/// How a silo and a client of the explain cluster are put together: the workers, the job grains' lease time, and
/// PostgreSQL (Debian's postgresql 15) for both clustering (who is in the cluster) and grain storage (job progress),
/// through Orleans' ADO.NET providers and Npgsql. Tests use the same extensions with Orleans' own test clustering.
/// </summary>
public static class ClusterHosting
{
    /// <summary>The ADO.NET invariant name of Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Default cluster and service id.</summary>
    public const string DefaultClusterId = "clrp";

    /// <summary>Adds the shard workers and the job options to a silo.</summary>
    public static ISiloBuilder AddExplainWorkers(this ISiloBuilder silo, Action<WorkerOptions> workers, TimeSpan leaseDuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        silo.Services.Configure(workers);
        silo.Services.Configure<JobOptions>(o => o.LeaseDuration = leaseDuration);
        silo.Services.AddSingleton<JobResources>();
        silo.Services.AddHostedService<ShardWorker>();
        return silo;
    }

    /// <summary>Clustering and job storage in PostgreSQL (the schema of Sql/clrp-orleans-postgresql.sql).</summary>
    public static ISiloBuilder UsePostgres(this ISiloBuilder silo, string connectionString, string clusterId = DefaultClusterId)
    {
        ArgumentNullException.ThrowIfNull(silo);
        return silo
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId))
            .UsePostgresClustering(connectionString)
            .AddPostgresJobStorage(connectionString);
    }

    /// <summary>Membership in PostgreSQL (ADO.NET clustering).</summary>
    public static ISiloBuilder UsePostgresClustering(this ISiloBuilder silo, string connectionString) =>
        silo.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (Invariant, connectionString));

    /// <summary>Job and directory grain state in PostgreSQL (ADO.NET grain storage).</summary>
    public static ISiloBuilder AddPostgresJobStorage(this ISiloBuilder silo, string connectionString) =>
        silo.AddAdoNetGrainStorage(JobGrain.Storage, o => (o.Invariant, o.ConnectionString) = (Invariant, connectionString));

    /// <summary>A client that finds the gateways in PostgreSQL.</summary>
    public static IClientBuilder UsePostgres(this IClientBuilder client, string connectionString, string clusterId = DefaultClusterId)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client
            .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, clusterId))
            .UsePostgresClustering(connectionString);
    }

    /// <summary>A client that finds the gateways in PostgreSQL, keeping the configured cluster id.</summary>
    public static IClientBuilder UsePostgresClustering(this IClientBuilder client, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(client);
        return client.UseAdoNetClustering(o => (o.Invariant, o.ConnectionString) = (Invariant, connectionString));
    }
}
