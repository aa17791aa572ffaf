using System.CommandLine;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Rules;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// The options the evaluation commands share and their translation into <see cref="EvalSettings"/>. Values are
/// taken as text and parsed here, so that a mistake is one line naming the option (as in <c>clrp explain</c>).
/// </summary>
internal sealed class EvalOptions
{
    private readonly Option<string> _model = new("--model") { Description = "The ONNX classifier to evaluate.", Required = true, HelpName = "M.onnx" };
    private readonly Option<string> _data = new("--data") { Description = "A folder with images.u8.npy (uint8 [N,C,H,W]) and scenes.csv (two classes and boxes per scene), e.g. models/data/fashion-pairs-test.", Required = true, HelpName = "DIR" };
    private readonly Option<string> _methods = new("--methods") { Description = $"Comma-separated methods: {string.Join(", ", EvalMethod.Names)} (lrp-epsilon-plus = LRP under the epsilon-plus composite).", DefaultValueFactory = _ => EvalMethod.DefaultList, HelpName = "M,M" };
    private readonly Option<string> _rules = new("--rules") { Description = $"The composite of every method except lrp-epsilon-plus and the gradients: {string.Join(", ", Composites.Names)}.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
    private readonly Option<string> _mean = new("--mean") { Description = "Per-channel mean of x = (pixel − mean)/std, pixels in [0,1]; needs --std. Also sets the z^B bounds (0−mean)/std, (1−mean)/std.", HelpName = "m" };
    private readonly Option<string> _std = new("--std") { Description = "Per-channel standard deviation of that preprocessing; needs --mean.", HelpName = "s" };
    private readonly Option<string> _low = new("--low") { Description = "Model input of a black pixel (the z^B lower bound); needs --high. The same as --mean/--std given as the image of [0,1].", HelpName = "L" };
    private readonly Option<string> _high = new("--high") { Description = "Model input of a white pixel (the z^B upper bound); needs --low.", HelpName = "H" };
    private readonly Option<string> _limit = new("--limit") { Description = "Evaluate only the first N scenes.", HelpName = "N" };
    private readonly Option<string> _batch = new("--batch") { Description = "Scenes per explanation call (each scene gives two images, one per class).", DefaultValueFactory = _ => "16", HelpName = "B" };
    private readonly Option<string> _out = new("--out") { Description = "The results CSV, one row per (method, scene), written row by row; rerunning with the same file resumes after its finished rows.", HelpName = "results.csv" };
    private readonly Option<string> _maps = new("--maps") { Description = "Also write every scored map as .npy: DIR/<method>/scene-<index>.npy, float32 [2,H,W] (class_a, class_b), for Quantus or numpy. Rows resumed from --out are not rewritten.", HelpName = "DIR" };
    private readonly Option<string> _device = new("--device") { Description = "cpu, cuda or cuda:ID (falls back to the CPU with a note).", DefaultValueFactory = _ => "cpu", HelpName = "cpu|cuda[:ID]" };

    /// <summary>Adds the shared options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { _model, _data, _methods, _rules, _mean, _std, _low, _high, _limit, _batch, _out, _maps, _device })
        {
            command.Add(option);
        }
    }

    /// <summary>Parses and cross-checks the values; throws <see cref="InvalidOptionsException"/> naming the option.</summary>
    public EvalSettings Read(ParseResult p)
    {
        float[]? mean = Floats(p, _mean), std = Floats(p, _std), low = Floats(p, _low), high = Floats(p, _high);
        ExplainCommand.RequirePair("--mean", mean, "--std", std);
        ExplainCommand.RequirePair("--low", low, "--high", high);
        if (mean is not null && low is not null)
        {
            throw new InvalidOptionsException("give the preprocessing either as --mean/--std or as --low/--high, not both.");
        }

        if (std?.Any(s => s <= 0) == true || (low is not null && low.Zip(high!).Any(b => b.First >= b.Second)))
        {
            throw new InvalidOptionsException("--std must be > 0 and --low below --high.");
        }

        PixelScaling scaling = mean is not null ? new PixelScaling(mean, std!, IsDatasetMean: true)
            : low is not null ? PixelScaling.FromBounds(low, high!)
            : PixelScaling.Unit;
        string rules = p.GetValue(_rules)!.Trim().ToLowerInvariant();
        _ = Composites.ByName(rules); // fails early, naming the known composites
        return new EvalSettings(
            p.GetValue(_model)!,
            p.GetValue(_data)!,
            EvalMethod.ParseList("--methods", p.GetValue(_methods)!),
            rules,
            scaling,
            low is not null ? new BoxBounds(low, high!) : BoxBounds.FromMeanStd(scaling.Mean, scaling.Std),
            p.GetValue(_limit) is { } limit ? NumberListParser.ParseInt("--limit", limit, 1) : null,
            NumberListParser.ParseInt("--batch", p.GetValue(_batch)!, 1),
            p.GetValue(_out),
            p.GetValue(_maps),
            Device.Parse(p.GetValue(_device)!, fallbackToCpu: true));
    }

    private static float[]? Floats(ParseResult p, Option<string> option) =>
        p.GetValue(option) is { } text ? NumberListParser.ParseFloats(option.Name, text) : null;
}
