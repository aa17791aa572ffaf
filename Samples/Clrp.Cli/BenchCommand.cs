using System.CommandLine;
using Clrp.Onnx;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp bench</c>: how much an explanation costs compared with the plain forward pass, on this machine.
/// Times (median, min, max over repeated runs after warm-up) the unmodified model, the capture run, and each
/// method; then the ratios explain/forward, CLRP/LRP, top-10/one-class and batch-8-per-image/batch-1.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model") { Description = "The ONNX classifier to benchmark.", Required = true, HelpName = "M.onnx" };
        var input = new Option<string>("--input") { Description = "A float32 .npy input [1,C,H,W] or [C,H,W]. Default: standard-normal noise of the model's input shape (needs fixed C,H,W).", HelpName = "x.npy" };
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods to time: {string.Join(", ", ExplainMethods.Names)}.", DefaultValueFactory = _ => "lrp,clrp1,clrp2,sglrp,gradient", HelpName = "M,M" };
        var batch = new Option<string>("--batch") { Description = "Batch size of the batched-throughput row.", DefaultValueFactory = _ => "8", HelpName = "N" };
        var topK = new Option<string>("--top-k") { Description = "k of the top-k row (capped at the number of classes).", DefaultValueFactory = _ => "10", HelpName = "K" };
        var runs = new Option<string>("--runs") { Description = "Timed runs per row (after the warm-up runs).", DefaultValueFactory = _ => "5", HelpName = "R" };
        var warmup = new Option<string>("--warmup") { Description = "Untimed runs before each row's timed runs; the first one's time is reported as the first explanation.", DefaultValueFactory = _ => "4", HelpName = "W" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:ID (falls back to the CPU with a note).", DefaultValueFactory = _ => "cpu", HelpName = "cpu|cuda[:ID]" };
        var rules = new Option<string>("--rules") { Description = $"The rule composite of the relevance methods: {string.Join(", ", Clrp.Onnx.Composites.Composites.Names)}.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
        var profile = new Option<bool>("--profile") { Description = "Also print where each method's time goes in the managed engine: the capture run and the walk by operator and step (denominators, transposed products, elementwise)." };
        var engine = new Option<string>("--engine") { Description = "Which engine to time: compiled (one ONNX Runtime graph, the default engine), managed (ONNX Runtime forward, managed walk), or both side by side.", DefaultValueFactory = _ => "both", HelpName = "compiled|managed|both" };
        var command = new Command("bench", "Time the plain forward pass, the capture run and each explanation method, and print their ratios and the peak memory.")
        {
            model, input, methods, batch, topK, runs, warmup, device, rules, profile, engine,
        };
        command.SetAction(p =>
        {
            var request = new BenchRequest(
                p.GetValue(model)!,
                p.GetValue(input),
                p.GetValue(methods)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ExplainMethods.Parse).Distinct().ToArray(),
                NumberListParser.ParseInt("--batch", p.GetValue(batch)!, 1),
                NumberListParser.ParseInt("--top-k", p.GetValue(topK)!, 1),
                NumberListParser.ParseInt("--runs", p.GetValue(runs)!, 1),
                NumberListParser.ParseInt("--warmup", p.GetValue(warmup)!, 1),
                Device.Parse(p.GetValue(device)!),
                Clrp.Onnx.Composites.Composites.ByName(p.GetValue(rules)!.Trim().ToLowerInvariant()),
                p.GetValue(profile),
                ParseEngines(p.GetValue(engine)!));
            if (request.Methods.Length == 0)
            {
                throw new InvalidOptionsException("--methods names no method.");
            }

            return BenchRunner.Run(request, stdout, stderr);
        });
        return command;
    }

    private static ExplainerEngine[] ParseEngines(string text) => text.Trim().ToLowerInvariant() switch
    {
        "compiled" => [ExplainerEngine.Compiled],
        "managed" => [ExplainerEngine.Managed],
        "both" => [ExplainerEngine.Compiled, ExplainerEngine.Managed],
        _ => throw new InvalidOptionsException($"unknown --engine '{text}'; expected compiled, managed or both."),
    };
}

/// <summary>A validated <c>clrp bench</c> request.</summary>
internal sealed record BenchRequest(string ModelPath, string? InputPath, ExplainMethod[] Methods, int Batch, int TopK, int Runs, int Warmup, Device Device, Clrp.Onnx.Composites.Composite Rules, bool Profile, ExplainerEngine[] Engines);
