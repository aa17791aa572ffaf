using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Composites;

/// <summary>
/// The named presets of DESIGN.md §1 ("first" = first linear layer from the input; "dense" = Gemm/MatMul):
/// <code>
/// composite           first           other Conv   dense
/// paper               z^B             z⁺           z⁺ (logit layer included)
/// paper-zplus-sums    as paper; residual sums share relevance by z⁺ (positive parts) instead of Norm
/// epsilon             ε               ε            ε
/// epsilon-plus        z⁺ if Conv      z⁺           ε
/// epsilon-gamma-box   z^B             γ            ε
/// epsilon-plus-flat   flat            z⁺           ε
/// alpha2-beta1        α2β1 if Conv    α2β1         ε
/// </code>
/// </summary>
public static class Composites
{
    /// <summary>All preset names, as the CLI's --rules accepts them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["paper", "paper-zplus-sums", "epsilon", "epsilon-plus", "epsilon-gamma-box", "epsilon-plus-flat", "alpha2-beta1"];

    /// <summary>The rules of Gu et al. (2018) and the authors' code: z^B on the first layer, z⁺ everywhere else. Default for CLRP.</summary>
    /// <param name="bounds">Box bounds of the first layer's input; null = the input's own per-channel range.</param>
    public static Composite Paper(BoxBounds? bounds = null)
    {
        var box = new ZBoxRule(bounds);
        var plus = new ZPlusRule();
        return new Composite("paper", role => role.IsFirst ? box : plus);
    }

    /// <summary>
    /// The paper's rules with z⁺ on residual sums too (<see cref="ResidualSharing.ZPlus"/>): the paper puts z⁺ on every
    /// layer but the first, and a residual sum is a linear layer with unit weights. Identical to <see cref="Paper"/> on
    /// models without residual sums; on ResNets it keeps CLRP on the explained object (README, "CLRP on ResNets").
    /// The default for models with residual sums.
    /// </summary>
    /// <param name="bounds">Box bounds of the first layer's input; null = the input's own per-channel range.</param>
    public static Composite PaperZPlusSums(BoxBounds? bounds = null)
    {
        var box = new ZBoxRule(bounds);
        var plus = new ZPlusRule();
        return new Composite("paper-zplus-sums", role => role.IsFirst ? box : plus) { Residual = ResidualSharing.ZPlus };
    }

    /// <summary>LRP-ε on every linear layer.</summary>
    public static Composite Epsilon(float epsilon = 1e-6f)
    {
        var eps = new EpsilonRule(epsilon);
        return new Composite("epsilon", _ => eps);
    }

    /// <summary>Zennit EpsilonPlus: z⁺ on convolutions, ε on dense layers.</summary>
    public static Composite EpsilonPlus(float epsilon = 1e-6f)
    {
        var eps = new EpsilonRule(epsilon);
        var plus = new ZPlusRule();
        return new Composite("epsilon-plus", role => role.Kind == LinearLayerKind.Conv ? plus : eps);
    }

    /// <summary>Zennit EpsilonGammaBox: z^B first, γ on other convolutions, ε on dense layers.</summary>
    public static Composite EpsilonGammaBox(BoxBounds? bounds = null, float gamma = 0.25f, float epsilon = 1e-6f)
    {
        var box = new ZBoxRule(bounds);
        var gammaRule = new GammaRule(gamma);
        var eps = new EpsilonRule(epsilon);
        return new Composite("epsilon-gamma-box", role => role.IsFirst ? box : role.Kind == LinearLayerKind.Conv ? gammaRule : eps);
    }

    /// <summary>Zennit EpsilonPlusFlat: flat first, z⁺ on other convolutions, ε on dense layers.</summary>
    public static Composite EpsilonPlusFlat(float epsilon = 1e-6f)
    {
        var flat = new FlatRule();
        var plus = new ZPlusRule();
        var eps = new EpsilonRule(epsilon);
        return new Composite("epsilon-plus-flat", role => role.IsFirst ? flat : role.Kind == LinearLayerKind.Conv ? plus : eps);
    }

    /// <summary>Zennit EpsilonAlpha2Beta1: α2β1 on convolutions, ε on dense layers.</summary>
    public static Composite Alpha2Beta1(float epsilon = 1e-6f)
    {
        var ab = new AlphaBetaRule(2f, 1f);
        var eps = new EpsilonRule(epsilon);
        return new Composite("alpha2-beta1", role => role.Kind == LinearLayerKind.Conv ? ab : eps);
    }

    /// <summary>A preset by its CLI name.</summary>
    public static Composite ByName(string name, BoxBounds? bounds = null, float epsilon = 1e-6f, float gamma = 0.25f) => name switch
    {
        "paper" => Paper(bounds),
        "paper-zplus-sums" => PaperZPlusSums(bounds),
        "epsilon" => Epsilon(epsilon),
        "epsilon-plus" => EpsilonPlus(epsilon),
        "epsilon-gamma-box" => EpsilonGammaBox(bounds, gamma, epsilon),
        "epsilon-plus-flat" => EpsilonPlusFlat(epsilon),
        "alpha2-beta1" => Alpha2Beta1(epsilon),
        _ => throw new InvalidOptionsException($"unknown rules '{name}'; expected one of {string.Join(", ", Names)}."),
    };
}
