using System.Globalization;
using Clrp.Batch;
using Clrp.Cli.Evaluation;

namespace Clrp.Cli.Batch;

/// <summary>
/// Runs <c>clrp explain --inputs … --out-dir …</c>: the job itself is <see cref="BatchJob"/>'s; this prints progress on
/// stderr (a bar with rate and ETA on a terminal, a line every 30 s otherwise) and the summary on stdout. Exit code 0
/// when every input was explained; 2 with one line naming results.csv when some became error rows (the others are
/// written all the same).
/// </summary>
internal static class BatchRunner
{
    public static int Run(BatchRequest request, TextWriter stdout, TextWriter stderr)
    {
        var gate = new object();
        void Log(string message)
        {
            lock (gate)
            {
                CliErrors.Info(stderr, message);
            }
        }

        var progress = new ProgressAdapter(stderr);
        BatchSummary summary = BatchJob.Run(request.Settings, request.Inputs, request.OutDir, request.BatchSize, request.Device, Log, progress, request.CacheDirectory);

        double rate = summary.Explained / Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"inputs:    {summary.Total} ({request.Inputs})"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"explained: {summary.Explained}, already done: {summary.Reused}, errors: {summary.Failed}"));
        stdout.WriteLine($"results:   {summary.ResultsPath}");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"time:      {summary.Elapsed.TotalSeconds:0.0} s ({rate:0.0} inputs/s explained)"));
        if (summary.Failed > 0)
        {
            return CliErrors.Report(stderr, $"{summary.Failed} of {summary.Total} inputs could not be explained; their rows in '{summary.ResultsPath}' say why (status column). The other {summary.Total - summary.Failed} are written.");
        }

        return CliErrors.Success;
    }

    /// <summary>Feeds <see cref="ProgressReporter"/>: inputs found finished count as resumed, not into the rate.</summary>
    private sealed class ProgressAdapter(TextWriter stderr) : IBatchProgress
    {
        private ProgressReporter? _reporter;

        public void Start(int total) => _reporter = new ProgressReporter(stderr, "inputs", total);

        public void Advance(int explained, int reused)
        {
            _reporter!.Skip(reused);
            _reporter.Advance(explained);
        }

        public void Finish() => _reporter?.Finish();
    }
}
