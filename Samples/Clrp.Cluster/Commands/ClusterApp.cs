using System.CommandLine;
using Clrp.Onnx;

namespace Clrp.Cluster.Commands;

/// <summary>
/// <c>clrp-cluster</c>: <c>silo</c> runs a silo, <c>submit</c> starts a job, <c>status</c> shows (or waits for) one.
/// Exit codes as <c>clrp</c>'s: 0 success, 2 and one line <c>clrp-cluster: error: …</c> for bad arguments, bad input
/// or a job with error rows, 1 for anything unexpected.
/// </summary>
public static class ClusterApp
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            var root = new RootCommand("clrp-cluster: explain an image collection on an Orleans cluster (PostgreSQL for membership and job progress).")
            {
                SiloCommand.Create(stdout, stderr),
                SubmitCommand.Create(stdout, stderr),
                StatusCommand.Create(stdout, stderr),
            };
            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
            {
                return Error(stderr, string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.'))) + ".");
            }

            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (ClrpException e)
        {
            return Error(stderr, e.Message);
        }
        catch (Exception e)
        {
            stderr.WriteLine($"clrp-cluster: error: unexpected {e.GetType().Name}: {Batch.ItemOutcome.OneLine(e.Message)}");
            return 1;
        }
    }

    /// <summary>Writes one error line and returns 2.</summary>
    public static int Error(TextWriter stderr, string message)
    {
        stderr.WriteLine("clrp-cluster: error: " + Batch.ItemOutcome.OneLine(message));
        return 2;
    }

    /// <summary>The PostgreSQL connection option every command takes.</summary>
    public static Option<string> PostgresOption() => new("--postgres")
    {
        Description = "Npgsql connection string of the cluster's database (membership and job progress), e.g. \"Host=127.0.0.1;Port=5432;Database=clrp;Username=clrp;Password=clrp\". Default: $CLRP_POSTGRES.",
        HelpName = "CONNECTION",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CLRP_POSTGRES") ?? string.Empty,
    };

    /// <summary>The cluster id option.</summary>
    public static Option<string> ClusterIdOption() => new("--cluster-id")
    {
        Description = "Cluster and service id: silos and clients with the same id and database form one cluster.",
        DefaultValueFactory = _ => Hosting.ClusterHosting.DefaultClusterId,
        HelpName = "ID",
    };

    /// <summary>The connection string, or a clear error when none was given.</summary>
    public static string RequirePostgres(string value) => !string.IsNullOrWhiteSpace(value) ? value
        : throw new InvalidOptionsException("--postgres (or $CLRP_POSTGRES) is required: the connection string of the cluster's PostgreSQL database; scripts/cluster/postgres.sh start prints one.");
}
