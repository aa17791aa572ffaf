using Clrp.Cluster.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clrp.Cluster.Commands;

/// <summary>Starts an Orleans client of the cluster in PostgreSQL for the duration of a command.</summary>
internal static class ClusterClient
{
    public static async Task<T> With<T>(string connection, string clusterId, Func<IClusterClient, Task<T>> work)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client => client.UsePostgres(connection, clusterId));
        using IHost host = builder.Build();
        await host.StartAsync();
        try
        {
            return await work(host.Services.GetRequiredService<IClusterClient>());
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
