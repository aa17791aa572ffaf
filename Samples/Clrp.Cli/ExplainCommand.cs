using System.CommandLine;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;

namespace Clrp.Cli;

/// <summary>
/// <c>clrp explain</c>: its options (DESIGN.md §3, a stable contract) and their translation into an
/// <see cref="ExplainRequest"/>. Values are taken as text and parsed here, so that every mistake is reported
/// as one line naming the option; the work itself is <see cref="ExplainRunner"/>'s.
/// </summary>
internal sealed partial class ExplainCommand
{
    private readonly Option<string> _model = new("--model") { Description = "The ONNX image classifier to explain.", Required = true, HelpName = "M.onnx" };
    private readonly Option<string> _input = new("--input") { Description = "A float32 .npy tensor [1,C,H,W] or [C,H,W] (or a batch [N,C,H,W]), used as stored; or a PNG/JPEG picture, resized to the model's H×W (or --size), grey or RGB after the model's channels, scaled to [0,1] and normalised with --mean/--std.", HelpName = "x.npy|img.png" };
    private readonly Option<string> _target = new("--target") { Description = "The class index to explain, in [0,K). Default: the predicted class.", HelpName = "K" };
    private readonly Option<string> _topK = new("--top-k") { Description = "Explain the N highest-scoring classes (cannot be combined with --target).", HelpName = "N" };
    private readonly Option<string> _method = new("--method") { Description = $"The attribution method: {string.Join(", ", ExplainMethods.Names)}.", DefaultValueFactory = _ => "clrp1", HelpName = "METHOD" };
    private readonly Option<string> _rules = new("--rules") { Description = $"The rule composite for the linear layers: {string.Join(", ", Composites.Names)}. Ignored by the gradient methods.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
    private readonly Option<string> _low = new("--low") { Description = "z^B lower bound of the input, one value or one per channel (comma-separated); needs --high. Default: 0 for pictures, the input's per-channel minimum for .npy.", HelpName = "L" };
    private readonly Option<string> _high = new("--high") { Description = "z^B upper bound, one value or one per channel; needs --low. Default: 1 for pictures, the input's per-channel maximum for .npy.", HelpName = "H" };
    private readonly Option<string> _mean = new("--mean") { Description = "Per-channel mean of the preprocessing x = (pixel − mean)/std, pixels in [0,1]; needs --std. Sets the z^B bounds to (0−mean)/std and (1−mean)/std, and normalises picture inputs.", HelpName = "m,m,m" };
    private readonly Option<string> _std = new("--std") { Description = "Per-channel standard deviation of that preprocessing, each > 0; needs --mean.", HelpName = "s,s,s" };
    private readonly Option<string> _dualSeed = new("--dual-seed") { Description = "CLRP1's dual seed: 'uniform' (|z_j|/(K−1) on every other class) or 'logits' (|z_c| on every other class, as the authors' code).", DefaultValueFactory = _ => "uniform", HelpName = "uniform|logits" };
    private readonly Option<string> _epsilon = new("--epsilon") { Description = "Stabiliser ε of the ε rule.", DefaultValueFactory = _ => "1e-6", HelpName = "E" };
    private readonly Option<string> _gamma = new("--gamma") { Description = "γ of the γ rule (epsilon-gamma-box).", DefaultValueFactory = _ => "0.25", HelpName = "G" };
    private readonly Option<string> _output = new("--output") { Description = "The tensor to explain. Default: the graph's first output, or the input of its final Softmax (the logits).", HelpName = "TENSOR" };
    private readonly Option<string> _size = new("--size") { Description = "Resize picture inputs to W,H. Default: the model's input size (required when that is dynamic).", HelpName = "W,H" };
    private readonly Option<string> _out = new("--out") { Description = "Write the method's final map as float32 .npy: [C,H,W] for one image and one class, [N,k,C,H,W] with --top-k or a batch.", HelpName = "relevance.npy" };
    private readonly Option<string> _heatmap = new("--heatmap") { Description = "Write the channel-summed map as a PNG (overlaid on picture inputs; one panel per class with --top-k).", HelpName = "heat.png" };
    private readonly Option<string> _maxPixels = ResourceOptions.MaxPixels();
    private readonly Option<string> _maxMemory = ResourceOptions.MaxMemory();
    private readonly Option<string> _engine = new("--engine") { Description = "auto (the compiled ONNX graph, or the managed walk with a note where a model cannot be compiled), compiled, or managed.", DefaultValueFactory = _ => "auto", HelpName = "auto|compiled|managed" };
    private readonly Option<string> _cacheDir = new("--cache-dir") { Description = CacheFolder.Help, HelpName = "DIR|none" };
    private readonly Option<string> _device = new("--device") { Description = "Where ONNX Runtime runs the forward pass: cpu, cuda or cuda:ID (falls back to the CPU, with a note, when CUDA is unavailable).", DefaultValueFactory = _ => "cpu", HelpName = "cpu|cuda[:ID]" };

    /// <summary>Builds the <c>explain</c> command, printing to <paramref name="stdout"/> and <paramref name="stderr"/>.</summary>
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var options = new ExplainCommand();
        var command = new Command("explain", "Explain a classifier's decision on one input with LRP, CLRP1/2, SGLRP or gradients; print a summary, write the map (.npy) and a heatmap (.png). With --inputs and --out-dir: a whole collection, resumable, with results.csv.");
        foreach (Option option in options.All)
        {
            command.Add(option);
        }

        options.RequireSomeInput(command);
        command.SetAction(parseResult => options.IsBatch(parseResult)
            ? Batch.BatchRunner.Run(options.ReadBatch(parseResult), stdout, stderr)
            : ExplainRunner.Run(options.Read(parseResult), stdout, stderr));
        return command;
    }

    private IEnumerable<Option> All =>
        [_model, _input, _target, _topK, _method, _rules, _low, _high, _mean, _std, _dualSeed, _epsilon, _gamma, _output, _size, _out, _heatmap, _device, _maxPixels, _maxMemory, _engine, _cacheDir, .. BatchOptions];

    /// <summary>Parses and cross-checks the values; throws <see cref="InvalidOptionsException"/> naming the offending option.</summary>
    private ExplainRequest Read(ParseResult p)
    {
        string model = PathArguments.Input("--model", p.GetValue(_model));
        string input = PathArguments.Input("--input", p.GetValue(_input) ?? throw new InvalidOptionsException("give --input (one picture or .npy) or --inputs (a folder, a list or a CSV manifest, with --out-dir)."));
        string? target = p.GetValue(_target), topK = p.GetValue(_topK);
        if (target is not null && topK is not null)
        {
            throw new InvalidOptionsException("--target and --top-k cannot be used together; give one of them.");
        }

        Target what = target is not null ? Target.Class(NumberListParser.ParseInt("--target", target, 0))
            : topK is not null ? Target.TopK(NumberListParser.ParseInt("--top-k", topK, 1))
            : Target.Predicted;

        (float[]? mean, float[]? std) = (Floats(p, _mean), Floats(p, _std));
        (float[]? low, float[]? high) = (Floats(p, _low), Floats(p, _high));
        RequirePair("--low", low, "--high", high);
        RequirePair("--mean", mean, "--std", std);
        if (low is not null && mean is not null)
        {
            throw new InvalidOptionsException("give the z^B bounds either as --low/--high or as --mean/--std, not both.");
        }

        (BoxBounds? bounds, string source) = low is not null ? (new BoxBounds(low, high!), "--low/--high")
            : mean is not null ? (BoxBounds.FromMeanStd(mean, std!), "(0−mean)/std, (1−mean)/std")
            : InputLoader.IsNpy(input) ? ((BoxBounds?)null, "the input's per-channel min/max")
            : (new BoxBounds([0f], [1f]), "the pixel range [0,1]");

        float epsilon = NumberListParser.ParseFloat("--epsilon", p.GetValue(_epsilon)!);
        float gamma = NumberListParser.ParseFloat("--gamma", p.GetValue(_gamma)!);
        string rulesName = p.GetValue(_rules)!.Trim().ToLowerInvariant();
        int[]? size = p.GetValue(_size) is { } sizeText ? NumberListParser.ParseInts("--size", sizeText, 1) : null;
        if (size is not null && size.Length != 2)
        {
            throw new InvalidOptionsException($"--size takes two integers W,H, got {size.Length}.");
        }

        return new ExplainRequest(
            model,
            input,
            what,
            topK is not null,
            ExplainMethods.Parse(p.GetValue(_method)!),
            Composites.ByName(rulesName, bounds, epsilon, gamma),
            bounds,
            source,
            mean,
            std,
            ParseDualSeed(p.GetValue(_dualSeed)!),
            p.GetValue(_output),
            size is null ? null : (size[0], size[1]),
            PathArguments.Output("--out", p.GetValue(_out)),
            PathArguments.Output("--heatmap", p.GetValue(_heatmap)),
            Device.Parse(p.GetValue(_device)!, fallbackToCpu: true))
        {
            Images = ResourceOptions.ReadImages(p, _maxPixels),
            MaxMemoryBytes = p.GetValue(_maxMemory) is { } memory ? ResourceOptions.ParseSize("--max-memory", memory) : null,
            CacheDirectory = CacheFolder.Resolve(p.GetValue(_cacheDir)),
            Engine = ParseEngine(p.GetValue(_engine)!),
        };
    }

    private static float[]? Floats(ParseResult p, Option<string> option) =>
        p.GetValue(option) is { } text ? NumberListParser.ParseFloats(option.Name, text) : null;

    /// <summary>Throws unless both options of a pair (--low/--high, --mean/--std) are given or neither is.</summary>
    internal static void RequirePair(string first, float[]? a, string second, float[]? b)
    {
        if ((a is null) != (b is null))
        {
            (string given, string missing) = a is null ? (second, first) : (first, second);
            throw new InvalidOptionsException($"{given} needs {missing} as well.");
        }
    }

    /// <summary>--engine: auto, compiled or managed.</summary>
    internal static ExplainerEngine ParseEngine(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => ExplainerEngine.Auto,
        "compiled" => ExplainerEngine.Compiled,
        "managed" => ExplainerEngine.Managed,
        _ => throw new InvalidOptionsException($"unknown --engine '{text}'; expected auto, compiled or managed."),
    };

    private static DualSeed ParseDualSeed(string text) => text.Trim().ToLowerInvariant() switch
    {
        "uniform" => DualSeed.Uniform,
        "logits" => DualSeed.PerClassLogit,
        _ => throw new InvalidOptionsException($"unknown --dual-seed '{text}'; expected uniform or logits."),
    };
}
