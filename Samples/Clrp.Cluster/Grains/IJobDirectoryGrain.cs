namespace Clrp.Cluster.Grains;

/// <summary>The jobs that still have work (key 0), so that idle workers know where to ask. Durable like the jobs.</summary>
public interface IJobDirectoryGrain : IGrainWithIntegerKey
{
    Task Register(string jobId);

    Task Remove(string jobId);

    Task<string[]> Active();
}
