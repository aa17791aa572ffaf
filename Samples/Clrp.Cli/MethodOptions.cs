using System.CommandLine;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;

namespace Clrp.Cli;

/// <summary>The method and rules a command explains with, as parsed from its options.</summary>
/// <param name="Method">--method.</param>
/// <param name="Rules">--rules as a composite, built with the bounds, ε and γ.</param>
/// <param name="Bounds">The z^B bounds handed to the composite; null = each image's own per-channel range.</param>
/// <param name="DualSeed">--dual-seed.</param>
/// <param name="OutputName">--output, or null for the logits.</param>
internal sealed record MethodChoice(ExplainMethod Method, Composite Rules, BoxBounds? Bounds, DualSeed DualSeed, string? OutputName)
{
    /// <summary>The explainer options these choices make.</summary>
    public ExplainerOptions ToOptions(Action<string>? log, ExplainerEngine engine = ExplainerEngine.Auto) => new()
    {
        Method = Method, Rules = Rules, Bounds = Bounds, DualSeed = DualSeed, OutputName = OutputName, Log = log, Engine = engine,
    };
}

/// <summary>
/// The options that choose what an explanation computes — method, rules, z^B bounds, CLRP1's dual, ε, γ, the explained
/// tensor — with the same names, help and checks in every command that takes them (<c>clrp export</c>; <c>clrp explain</c>
/// spells the same flags).
/// </summary>
internal sealed class MethodOptions
{
    private readonly Option<string> _method = new("--method") { Description = $"The attribution method: {string.Join(", ", ExplainMethods.Names)}.", DefaultValueFactory = _ => "clrp1", HelpName = "METHOD" };
    private readonly Option<string> _rules = new("--rules") { Description = $"The rule composite for the linear layers: {string.Join(", ", Composites.Names)}. Ignored by the gradient methods.", DefaultValueFactory = _ => "paper", HelpName = "RULES" };
    private readonly Option<string> _low = new("--low") { Description = "z^B lower bound of the input, one value or one per channel (comma-separated); needs --high. Default: each image's own per-channel minimum, computed in the graph.", HelpName = "L" };
    private readonly Option<string> _high = new("--high") { Description = "z^B upper bound, one value or one per channel; needs --low. Default: each image's own per-channel maximum.", HelpName = "H" };
    private readonly Option<string> _mean = new("--mean") { Description = "Per-channel mean of the preprocessing x = (pixel − mean)/std, pixels in [0,1]; needs --std. Sets the z^B bounds to (0−mean)/std and (1−mean)/std.", HelpName = "m,m,m" };
    private readonly Option<string> _std = new("--std") { Description = "Per-channel standard deviation of that preprocessing, each > 0; needs --mean.", HelpName = "s,s,s" };
    private readonly Option<string> _dualSeed = new("--dual-seed") { Description = "CLRP1's dual seed: 'uniform' (|z_j|/(K−1) on every other class) or 'logits' (|z_c| on every other class, as the authors' code).", DefaultValueFactory = _ => "uniform", HelpName = "uniform|logits" };
    private readonly Option<string> _epsilon = new("--epsilon") { Description = "Stabiliser ε of the ε rule.", DefaultValueFactory = _ => "1e-6", HelpName = "E" };
    private readonly Option<string> _gamma = new("--gamma") { Description = "γ of the γ rule (epsilon-gamma-box).", DefaultValueFactory = _ => "0.25", HelpName = "G" };
    private readonly Option<string> _output = new("--output") { Description = "The tensor to explain. Default: the graph's first output, or the input of its final Softmax (the logits).", HelpName = "TENSOR" };

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [_method, _rules, _low, _high, _mean, _std, _dualSeed, _epsilon, _gamma, _output];

    /// <summary>Parses and cross-checks the values; throws <see cref="InvalidOptionsException"/> naming the offending option.</summary>
    public MethodChoice Read(ParseResult p)
    {
        (float[]? mean, float[]? std) = (Floats(p, _mean), Floats(p, _std));
        (float[]? low, float[]? high) = (Floats(p, _low), Floats(p, _high));
        ExplainCommand.RequirePair("--low", low, "--high", high);
        ExplainCommand.RequirePair("--mean", mean, "--std", std);
        if (low is not null && mean is not null)
        {
            throw new InvalidOptionsException("give the z^B bounds either as --low/--high or as --mean/--std, not both.");
        }

        BoxBounds? bounds = low is not null ? new BoxBounds(low, high!) : mean is not null ? BoxBounds.FromMeanStd(mean, std!) : null;
        float epsilon = NumberListParser.ParseFloat("--epsilon", p.GetValue(_epsilon)!);
        float gamma = NumberListParser.ParseFloat("--gamma", p.GetValue(_gamma)!);
        Composite rules = Composites.ByName(p.GetValue(_rules)!.Trim().ToLowerInvariant(), bounds, epsilon, gamma);
        DualSeed dual = p.GetValue(_dualSeed)!.Trim().ToLowerInvariant() switch
        {
            "uniform" => DualSeed.Uniform,
            "logits" => DualSeed.PerClassLogit,
            string other => throw new InvalidOptionsException($"unknown --dual-seed '{other}'; expected uniform or logits."),
        };
        return new MethodChoice(ExplainMethods.Parse(p.GetValue(_method)!), rules, bounds, dual, p.GetValue(_output));
    }

    private static float[]? Floats(ParseResult p, Option<string> option) =>
        p.GetValue(option) is { } text ? NumberListParser.ParseFloats(option.Name, text) : null;
}
