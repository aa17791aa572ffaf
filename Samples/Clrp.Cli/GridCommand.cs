using System.CommandLine;
using Clrp.Cli.Evaluation;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Rules;

namespace Clrp.Cli;

/// <summary>A validated <c>clrp grid</c> command line.</summary>
/// <param name="ModelPath">--model.</param>
/// <param name="Inputs">--inputs, pictures or .npy files.</param>
/// <param name="TopK">--top-k: rows per input.</param>
/// <param name="Methods">--methods: one column each, after the input.</param>
/// <param name="Rules">--rules (lrp-epsilon-plus keeps its own).</param>
/// <param name="Bounds">The z^B bounds; null = each input's own range (.npy without bounds).</param>
/// <param name="Mean">--mean for pictures, or null.</param>
/// <param name="Std">--std for pictures, or null.</param>
/// <param name="Labels">--labels: class names by index, or null.</param>
/// <param name="Size">--size as (W, H), or null.</param>
/// <param name="OutPath">--out, the PNG.</param>
/// <param name="Device">--device.</param>
internal sealed record GridRequest(
    string ModelPath,
    IReadOnlyList<string> Inputs,
    int TopK,
    IReadOnlyList<EvalMethod> Methods,
    string Rules,
    BoxBounds? Bounds,
    float[]? Mean,
    float[]? Std,
    IReadOnlyList<string>? Labels,
    (int Width, int Height)? Size,
    string OutPath,
    Device Device)
{
    /// <summary>--max-pixels.</summary>
    public Clrp.Onnx.Imaging.ImageLoadOptions Images { get; init; } = Clrp.Onnx.Imaging.ImageLoadOptions.Default;
}

/// <summary>
/// <c>clrp grid</c>: a picture grid for side-by-side comparison, one row per (input, top class) and one column
/// per method after the input itself (DESIGN.md §5: image | LRP | CLRP1 | CLRP2 …), rows titled with the class names.
/// </summary>
internal static class GridCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var model = new Option<string>("--model") { Description = "The ONNX image classifier.", Required = true, HelpName = "M.onnx" };
        var inputs = new Option<string>("--inputs") { Description = "Comma-separated pictures (PNG/JPEG, resized and normalised as in explain) or float32 .npy inputs.", Required = true, HelpName = "a.png,b.png" };
        var topK = new Option<string>("--top-k") { Description = "Rows per input: its N highest-scoring classes.", DefaultValueFactory = _ => "2", HelpName = "N" };
        var methods = new Option<string>("--methods") { Description = $"Comma-separated methods, one column each: {string.Join(", ", EvalMethod.Names)}.", DefaultValueFactory = _ => "lrp,clrp1,clrp2,sglrp", HelpName = "M,M" };
        var rules = new Option<string>("--rules") { Description = $"The composite: {string.Join(", ", Composites.Names)}.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
        var mean = new Option<string>("--mean") { Description = "Per-channel mean of x = (pixel − mean)/std; needs --std. Sets the z^B bounds too.", HelpName = "m,m,m" };
        var std = new Option<string>("--std") { Description = "Per-channel std of that preprocessing; needs --mean.", HelpName = "s,s,s" };
        var low = new Option<string>("--low") { Description = "z^B lower bound, one value or one per channel; needs --high.", HelpName = "L" };
        var high = new Option<string>("--high") { Description = "z^B upper bound; needs --low.", HelpName = "H" };
        var labels = new Option<string>("--labels") { Description = "Comma-separated class names, one per class in index order, for the row titles.", HelpName = "name0,name1,…" };
        var size = new Option<string>("--size") { Description = "Resize pictures to W,H. Default: the model's input size.", HelpName = "W,H" };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:ID.", DefaultValueFactory = _ => "cpu", HelpName = "cpu|cuda[:ID]" };
        var output = new Option<string>("--out") { Description = "The PNG to write.", Required = true, HelpName = "grid.png" };
        Option<string> maxPixels = ResourceOptions.MaxPixels();
        var command = new Command("grid", "Draw a comparison grid: input | one map per method, one row per (input, top class), titled with the class names.")
        {
            model, inputs, topK, methods, rules, mean, std, low, high, labels, size, device, output, maxPixels,
        };
        command.SetAction(p =>
        {
            float[]? Floats(Option<string> o) => p.GetValue(o) is { } text ? NumberListParser.ParseFloats(o.Name, text) : null;
            (float[]? m, float[]? s, float[]? l, float[]? h) = (Floats(mean), Floats(std), Floats(low), Floats(high));
            ExplainCommand.RequirePair("--mean", m, "--std", s);
            ExplainCommand.RequirePair("--low", l, "--high", h);
            if (m is not null && l is not null)
            {
                throw new InvalidOptionsException("give the z^B bounds either as --low/--high or as --mean/--std, not both.");
            }

            string[] files = p.GetValue(inputs)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (files.Length == 0)
            {
                throw new InvalidOptionsException("--inputs names no file.");
            }

            BoxBounds? bounds = l is not null ? new BoxBounds(l, h!)
                : m is not null ? BoxBounds.FromMeanStd(m, s!)
                : files.All(InputLoader.IsNpy) ? null : new BoxBounds([0f], [1f]);
            string rulesName = p.GetValue(rules)!.Trim().ToLowerInvariant();
            _ = Composites.ByName(rulesName);
            int[]? wh = p.GetValue(size) is { } text ? NumberListParser.ParseInts("--size", text, 1) : null;
            if (wh is not null && wh.Length != 2)
            {
                throw new InvalidOptionsException($"--size takes two integers W,H, got {wh.Length}.");
            }

            var request = new GridRequest(
                p.GetValue(model)!,
                files,
                NumberListParser.ParseInt("--top-k", p.GetValue(topK)!, 1),
                EvalMethod.ParseList("--methods", p.GetValue(methods)!),
                rulesName,
                bounds,
                m,
                s,
                p.GetValue(labels)?.Split(',', StringSplitOptions.TrimEntries),
                wh is null ? null : (wh[0], wh[1]),
                p.GetValue(output)!,
                Device.Parse(p.GetValue(device)!, fallbackToCpu: true))
            {
                Images = ResourceOptions.ReadImages(p, maxPixels),
            };
            return GridRunner.Run(request, stdout, stderr);
        });
        return command;
    }
}
