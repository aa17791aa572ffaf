using System.CommandLine;
using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Compiling;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp export</c>: writes the compiled explainer of a model — one ONNX graph holding the model's forward, the relevance
/// pass and the method's map — which any ONNX Runtime runs (Python, Node, the browser, mobile). Prints what the graph
/// takes and returns.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model") { Description = "The ONNX image classifier to explain.", Required = true, HelpName = "M.onnx" };
        var topK = new Option<string>("--top-k") { Description = "Classes explained per image, k: the graph's targets input is [N,k] (feed −1…−k for the top k).", DefaultValueFactory = _ => "1", HelpName = "k" };
        var size = new Option<string>("--size") { Description = "The image size W,H the graph is specialised to. Default: the model's input size (required when that is dynamic).", HelpName = "W,H" };
        var outPath = new Option<string>("--out") { Description = "Where to write the explainer model.", Required = true, HelpName = "M.explain.onnx" };
        var methodOptions = new MethodOptions();
        var command = new Command("export", $"Write a standalone explainer model: inputs '<the model's input>' [N,…] and '{CompiledNames.Targets}' int64 [N,k] (class c, or −r for the class ranked r: −1…−k for the top k); outputs {CompiledNames.Relevance} [N,k,…], {CompiledNames.Heatmap}, {CompiledNames.Logits}, {CompiledNames.Classes} and ΣR per seed.")
        {
            model, topK, size, outPath,
        };
        foreach (Option option in methodOptions.All)
        {
            command.Add(option);
        }

        command.SetAction(p =>
        {
            string output = p.GetValue(outPath)!;
            if (string.IsNullOrWhiteSpace(output))
            {
                throw new InvalidOptionsException("--out needs a file path.");
            }

            MethodChoice choice = methodOptions.Read(p);
            int k = NumberListParser.ParseInt("--top-k", p.GetValue(topK)!, 1);
            int[]? imageShape = p.GetValue(size) is { } text ? ImageShape(p.GetValue(model)!, NumberListParser.ParseInts("--size", text, 1), choice) : null;
            OutputPaths.Prepare(output);
            ExportSummary summary = ClrpExplainer.Export(p.GetValue(model)!, output, choice.ToOptions(m => CliErrors.Info(stderr, m)), k, imageShape);
            Print(summary, stdout);
            return CliErrors.Success;
        });
        return command;
    }

    /// <summary>The per-image shape for --size W,H: the model's channel axis and H×W.</summary>
    private static int[] ImageShape(string model, int[] size, MethodChoice choice)
    {
        if (size.Length != 2)
        {
            throw new InvalidOptionsException($"--size takes two integers W,H, got {size.Length}.");
        }

        ModelReport report = ClrpExplainer.Inspect(model, choice.ToOptions(null));
        IReadOnlyList<long?>? dims = report.Input.Dimensions;
        if (dims is not { Count: 4 } || dims[1] is not > 0)
        {
            throw new InvalidOptionsException($"--size sets H and W of an image input [N,C,H,W] with a fixed C; '{report.Input.Name}' is {report.Input.ShapeText}.");
        }

        return [checked((int)dims[1]!.Value), size[1], size[0]];
    }

    private static void Print(ExportSummary s, TextWriter stdout)
    {
        string row = Tensor.FormatShape(s.ImageShape).Trim('[', ']');
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {s.Path} ({s.Bytes / 1048576.0:F1} MiB): {s.Method.ToName()}, rules {s.Rules}, {s.AddedNodes} nodes added to the model"));
        stdout.WriteLine($"inputs:  {s.InputName} float32 [N,{row}]");
        stdout.WriteLine($"         {CompiledNames.Targets} int64 [N,{s.TargetsPerImage}] (class c, or −r for the class ranked r: {string.Join(',', Enumerable.Range(1, s.TargetsPerImage).Select(r => -r))} for the top {s.TargetsPerImage})");
        stdout.WriteLine($"outputs: {CompiledNames.Relevance} [N,{s.TargetsPerImage},{row}], {CompiledNames.Heatmap}, {CompiledNames.Logits} [N,{s.Classes}], {CompiledNames.Classes} [N,{s.TargetsPerImage}], {CompiledNames.SeedSums}, {CompiledNames.InputSums}"
            + (s.Method.IsContrastive() ? $", {CompiledNames.TargetRelevance}, {CompiledNames.DualRelevance}, {CompiledNames.SignedDifference}" : string.Empty));
    }
}
