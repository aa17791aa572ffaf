using System.CommandLine;
using System.Globalization;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Planning;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp info</c>: what the explainer makes of a model, without running it: file, opsets, input, the
/// explained output and its logits, an op-type histogram and every node's role in the backward walk
/// (its rule, "propagates", "constant", "after the explained output" or "unsupported: reason").
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
                return CliErrors.Report(stderr, $"{unsupported.Count} node(s) unsupported (--strict); first: {unsupported[0].Role}");
            }

            return CliErrors.Success;
        });
        return command;
    }

    private static void Print(TextWriter o, ModelReport report, string rules)
    {
        o.WriteLine($"file:      {report.Source}");
        o.WriteLine($"opsets:    {string.Join(", ", report.Opsets.Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)} {kv.Value}"))}");
        o.WriteLine($"input:     '{report.Input.Name}' {report.Input.ElementTypeName} {report.Input.ShapeText}");
        o.WriteLine(report.Logits == report.ExplainedOutput
            ? $"explained: '{report.ExplainedOutput}' (taken as the logits)"
            : $"explained: '{report.ExplainedOutput}', logits '{report.Logits}' (the input of its final Softmax)");
        o.WriteLine($"rules:     {rules} (first linear layer {Quoted(report.FirstLinearLayer)}, logit layer {Quoted(report.LogitLayer)})");
        int unsupported = report.Nodes.Count(n => !n.Supported);
        o.WriteLine($"nodes:     {report.Nodes.Count}{(unsupported == 0 ? ", all supported" : $", {unsupported} unsupported")}");
        o.WriteLine($"ops:       {string.Join(", ", report.Nodes.GroupBy(n => n.Node.OpType).Select(g => $"{g.Key} {g.Count()}"))}");
        o.WriteLine();

        int nameWidth = Math.Max(4, report.Nodes.Max(n => n.Node.Name.Length));
        int opWidth = Math.Max(2, report.Nodes.Max(n => n.Node.OpType.Length));
        int indexWidth = report.Nodes.Count.ToString(CultureInfo.InvariantCulture).Length;
        o.WriteLine($"{"#".PadLeft(indexWidth)}  {"name".PadRight(nameWidth)}  {"op".PadRight(opWidth)}  role");
        for (int i = 0; i < report.Nodes.Count; i++)
        {
            NodeReport n = report.Nodes[i];
            o.WriteLine($"{i.ToString(CultureInfo.InvariantCulture).PadLeft(indexWidth)}  {n.Node.Name.PadRight(nameWidth)}  {n.Node.OpType.PadRight(opWidth)}  {n.Role}");
        }
    }

    private static string Quoted(string? name) => name is null ? "none" : $"'{name}'";
}
