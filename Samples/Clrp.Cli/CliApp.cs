using System.CommandLine;
using System.CommandLine.Help;

namespace Clrp.Cli;

/// <summary>
/// The <c>clrp</c> command line as a library call, so that tests drive it in-process. Exit codes and error
/// lines follow DESIGN.md §3–4: 0 success; 2 and one line <c>clrp: error: …</c> for bad arguments and every
/// <see cref="Clrp.Onnx.ClrpException"/>; 1 and one line for anything unexpected.
/// </summary>
public static class CliApp
{
    /// <summary>Runs <c>clrp</c> with <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">The arguments after the program name, e.g. <c>["explain", "--model", "m.onnx", …]</c>.</param>
    /// <param name="stdout">Receives the summary and help.</param>
    /// <param name="stderr">Receives errors and notes, each a line starting with <c>clrp: </c>.</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        try
        {
            RootCommand root = CreateRoot(stdout, stderr);
            ParseResult parsed = root.Parse(args);
            if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
            {
                return CliErrors.Report(stderr, string.Join("; ", parsed.Errors.Select(e => e.Message.TrimEnd('.'))) + ".");
            }

            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return CliErrors.Report(stderr, e);
        }
    }

    private static RootCommand CreateRoot(TextWriter stdout, TextWriter stderr) =>
        new("clrp: explain ONNX image classifiers with LRP and Contrastive LRP (Gu, Yang, Tresp, ACCV 2018).")
        {
            ExplainCommand.Create(stdout, stderr),
            InfoCommand.Create(stdout, stderr),
            BenchCommand.Create(stdout, stderr),
            ExportCommand.Create(stdout, stderr),
            CompareCommand.Create(stdout, stderr),
            Evaluation.EvalCommand.Create(stdout, stderr),
            GridCommand.Create(stdout, stderr),
        };
}
