using System.CommandLine;
using System.Net;
using Clrp.Cluster.Hosting;
using Clrp.Onnx.Execution;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Clrp.Cluster.Commands;

/// <summary><c>clrp-cluster silo</c>: one silo with its workers, until Ctrl+C or SIGTERM.</summary>
internal static class SiloCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        Option<string> postgres = ClusterApp.PostgresOption(), clusterId = ClusterApp.ClusterIdOption();
        var port = new Option<int>("--port") { Description = "Silo-to-silo port.", DefaultValueFactory = _ => 11111 };
        var gateway = new Option<int>("--gateway-port") { Description = "Port clients connect to.", DefaultValueFactory = _ => 30000 };
        var advertise = new Option<string>("--advertise") { Description = "The IP address other silos and clients reach this silo at.", DefaultValueFactory = _ => "127.0.0.1", HelpName = "IP" };
        var workers = new Option<int>("--workers") { Description = "Worker loops on this silo, sharing its explainers.", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { Description = "Inputs per forward pass and backward walk.", DefaultValueFactory = _ => 8 };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:ID (falls back to the CPU when CUDA is unavailable).", DefaultValueFactory = _ => "cpu" };
        var lease = new Option<int>("--lease-seconds") { Description = "How long a shard stays with a worker that stops renewing it (a hung or cut-off silo).", DefaultValueFactory = _ => 60 };
        var verbose = new Option<bool>("--verbose") { Description = "Log Orleans' own information messages too." };
        var command = new Command("silo", "Run a silo: join the cluster in PostgreSQL and explain the shards of submitted jobs.")
        {
            postgres, clusterId, port, gateway, advertise, workers, batch, device, lease, verbose,
        };
        command.SetAction(p =>
        {
            string connection = ClusterApp.RequirePostgres(p.GetValue(postgres)!);
            Device onDevice = Device.Parse(p.GetValue(device)!, fallbackToCpu: true);
            if (!IPAddress.TryParse(p.GetValue(advertise), out IPAddress? address))
            {
                return ClusterApp.Error(stderr, $"--advertise expects an IP address, got '{p.GetValue(advertise)}'.");
            }

            HostApplicationBuilder builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Orleans", p.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Polly", LogLevel.Warning);
            builder.UseOrleans(silo => silo
                .UsePostgres(connection, p.GetValue(clusterId)!)
                .ConfigureEndpoints(address, p.GetValue(port), p.GetValue(gateway), listenOnAnyHostAddress: true)
                .AddExplainWorkers(
                    w => (w.Workers, w.BatchSize, w.Device) = (p.GetValue(workers), p.GetValue(batch), onDevice),
                    TimeSpan.FromSeconds(Math.Max(5, p.GetValue(lease)))));
            using IHost host = builder.Build();
            stdout.WriteLine($"silo {address}:{p.GetValue(port)} (gateway {p.GetValue(gateway)}), cluster '{p.GetValue(clusterId)}', {p.GetValue(workers)} worker(s) on {onDevice}; Ctrl+C stops it.");
            host.Run();
            return 0;
        });
        return command;
    }
}
