using Clrp.Onnx;
using Clrp.Onnx.Explaining;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// A method as the evaluation commands name it: an <see cref="ExplainMethod"/> with the composite it runs under.
/// Every method uses <c>--rules</c> except <c>lrp-epsilon-plus</c>, which is LRP under Zennit's EpsilonPlus
/// composite (the usual alternative to the paper's z⁺ everywhere), and the gradients, which use no rules.
/// </summary>
/// <param name="Name">The command-line name, also the <c>method</c> column of the results.</param>
/// <param name="Method">The library method.</param>
/// <param name="FixedRules">A composite name that overrides <c>--rules</c>, or null.</param>
internal sealed record EvalMethod(string Name, ExplainMethod Method, string? FixedRules)
{
    /// <summary>The default list: every method of the paper's comparison.</summary>
    public const string DefaultList = "gradient,gradient-input,lrp,lrp-epsilon-plus,clrp1,clrp2,sglrp";

    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. ExplainMethods.Names, "lrp-epsilon-plus"];

    /// <summary>Parses a comma-separated list; duplicates are dropped, order is kept.</summary>
    /// <exception cref="InvalidOptionsException">An unknown or empty name.</exception>
    public static IReadOnlyList<EvalMethod> ParseList(string option, string text)
    {
        string[] names = text.Split(',', StringSplitOptions.TrimEntries);
        if (names.Any(n => n.Length == 0))
        {
            throw new InvalidOptionsException($"{option} has an empty entry in '{text}'; separate methods by single commas.");
        }

        return [.. names.Select(n => n.ToLowerInvariant()).Distinct().Select(n => Parse(option, n))];
    }

    private static EvalMethod Parse(string option, string name) => name switch
    {
        "lrp-epsilon-plus" => new EvalMethod(name, ExplainMethod.Lrp, "epsilon-plus"),
        _ when ExplainMethods.Names.Contains(name) => new EvalMethod(name, ExplainMethods.Parse(name), null),
        _ => throw new InvalidOptionsException($"{option}: unknown method '{name}'; expected one of {string.Join(", ", Names)}."),
    };

    /// <summary>The composite name in effect given <c>--rules</c>; "gradient" for the gradient methods.</summary>
    public string RulesUnder(string rules) => Method.IsGradient() ? "gradient" : FixedRules ?? rules;

    /// <summary>
    /// Turns the explainer's channel-summed map into the map the metrics read, in place: the plain gradient
    /// becomes |∂z/∂x| (Simonyan et al.'s saliency map; its sign says which way a pixel should move, not whether
    /// it matters); every other method is used as it is (signed for LRP, SGLRP and Gradient⊙Input).
    /// </summary>
    public void ToSaliency(Span<float> map)
    {
        if (Method == ExplainMethod.Gradient)
        {
            System.Numerics.Tensors.TensorPrimitives.Abs(map, map);
        }
    }
}
