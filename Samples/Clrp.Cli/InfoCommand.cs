using System.CommandLine;
using System.Globalization;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Planning;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp info</c>: what the explainer makes of a model, without running it: file, opsets, input, the
/// explained output and its logits, an op-type histogram and every node's role in the backward walk
/// (its rule, "residual sum, norm" or "residual sum, z+", "propagates", "constant", "after the explained output" or
/// "unsupported: reason"), and a note when residual sums share relevance by Norm (CLRP on ResNets wants paper-zplus-sums).
/// </summary>
internal static class InfoCommand
{
    /// <summary>Builds the <c>info</c> command, printing to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model") { Description = "The ONNX model to inspect.", Required = true, HelpName = "M.onnx" };
        var output = new Option<string>("--output") { Description = "The tensor to explain. Default: the graph's first output, or the input of its final Softmax (the logits).", HelpName = "TENSOR" };
        var rules = new Option<string>("--rules") { Description = $"The composite whose rules are listed: {string.Join(", ", Composites.Names)}.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
        var strict = new Option<bool>("--strict") { Description = "Exit with code 2 when any node on the explained path is unsupported." };
        var command = new Command("info", "Summarise a model's graph and say, node by node, how the explainer treats it (and whether it is supported).")
        {
            model, output, rules, strict,
        };
        command.SetAction(p =>
        {
            var options = new ExplainerOptions
            {
                Rules = Composites.ByName(p.GetValue(rules)!.Trim().ToLowerInvariant()),
                OutputName = p.GetValue(output),
            };
            ModelReport report = ClrpExplainer.Inspect(p.GetValue(model)!, options);
            Print(stdout, report, options.EffectiveRules.Name);
            List<NodeReport> unsupported = report.Nodes.Where(n => !n.Supported).ToList();
            if (p.GetValue(strict) && unsupported.Count > 0)
            {
                return CliErrors.Report(stderr, $"{unsupported.Count} node(s) unsupported (--strict); first: {Printable.Of(unsupported[0].Role, int.MaxValue)}");
            }

            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>Every name, op type and role comes from the file: each is printed through <see cref="Printable"/>.</summary>
    private static void Print(TextWriter o, ModelReport report, string rules)
    {
        static string P(string? text) => Printable.Of(text);
        o.WriteLine($"file:      {P(report.Source)}");
        o.WriteLine($"opsets:    {string.Join(", ", report.Opsets.Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : P(kv.Key))} {kv.Value}"))}");
        o.WriteLine($"input:     '{P(report.Input.Name)}' {report.Input.ElementTypeName} {report.Input.ShapeText}");
        o.WriteLine(report.Logits == report.ExplainedOutput
            ? $"explained: '{P(report.ExplainedOutput)}' (taken as the logits)"
            : $"explained: '{P(report.ExplainedOutput)}', logits '{P(report.Logits)}' (the input of its final Softmax)");
        o.WriteLine($"rules:     {rules} (first linear layer {Quoted(report.FirstLinearLayer)}, logit layer {Quoted(report.LogitLayer)})");
        if (report.Quantisation is not null)
        {
            o.WriteLine(report.Quantisation);
        }

        int unsupported = report.Nodes.Count(n => !n.Supported);
        o.WriteLine($"nodes:     {report.Nodes.Count}{(unsupported == 0 ? ", all supported" : $", {unsupported} unsupported")}");
        o.WriteLine($"ops:       {string.Join(", ", report.Nodes.GroupBy(n => n.Node.OpType).Select(g => $"{P(g.Key)} {g.Count()}"))}");
        int normSums = report.Nodes.Count(n => n.Role.StartsWith("residual sum, norm", StringComparison.Ordinal));
        if (normSums > 0)
        {
            // Measured on fashion-pair-resnet (README, "CLRP on ResNets"): CLRP1 nearer-own 0.63 under paper, 0.97 under paper-zplus-sums.
            o.WriteLine($"note:      {normSums} residual sum(s) share relevance by Norm ({rules}); for CLRP on this model use --rules paper-zplus-sums (z+ on residual sums; see the README, \"CLRP on ResNets\").");
        }

        o.WriteLine();

        var rows = report.Nodes.Select(n => (Name: P(n.Node.Name), Op: P(n.Node.OpType), Role: Printable.Of(n.Role, int.MaxValue))).ToList();
        int nameWidth = Math.Max(4, rows.Select(r => r.Name.Length).DefaultIfEmpty(0).Max());
        int opWidth = Math.Max(2, rows.Select(r => r.Op.Length).DefaultIfEmpty(0).Max());
        int indexWidth = rows.Count.ToString(CultureInfo.InvariantCulture).Length;
        o.WriteLine($"{"#".PadLeft(indexWidth)}  {"name".PadRight(nameWidth)}  {"op".PadRight(opWidth)}  role");
        for (int i = 0; i < rows.Count; i++)
        {
            o.WriteLine($"{i.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)}  {rows[i].Name.PadRight(nameWidth)}  {rows[i].Op.PadRight(opWidth)}  {rows[i].Role}");
        }

        // The last line sums up coverage, so a script (or a reader of a 20,000-line table) finds it with `tail -1`.
        o.WriteLine();
        var refused = report.Nodes.Where(n => !n.Supported).GroupBy(n => n.Node.OpType).Select(g => $"{P(g.Key)} ({g.Count()})").ToList();
        o.WriteLine($"explained: {report.Nodes.Count(n => n.Supported)}/{report.Nodes.Count} nodes; refused op types: {(refused.Count == 0 ? "none" : string.Join(", ", refused))}");
    }

    private static string Quoted(string? name) => name is null ? "none" : $"'{Printable.Of(name)}'";
}
