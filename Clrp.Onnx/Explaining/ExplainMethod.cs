namespace Clrp.Onnx.Explaining;

/// <summary>The attribution methods; all seeded at the logits and computed in one backward walk.</summary>
public enum ExplainMethod
{
    /// <summary>LRP: seed <c>e_j·|z_j|</c>; the map is the input relevance R.</summary>
    Lrp,

    /// <summary>CLRP1 (Gu et al. 2018): dual = every other class; map <c>max(0, R/ΣR − R̄/ΣR̄)</c>.</summary>
    Clrp1,

    /// <summary>CLRP2: dual = the target's logit-layer weights negated; same map.</summary>
    Clrp2,

    /// <summary>SGLRP (Iwana et al. 2019): seed <c>∂softmax_j/∂z</c>; the map is the signed R.</summary>
    Sglrp,

    /// <summary>Gradient <c>∂z_j/∂x</c>.</summary>
    Gradient,

    /// <summary>Gradient⊙Input <c>x ⊙ ∂z_j/∂x</c>.</summary>
    GradientInput,
}

/// <summary>How CLRP1 seeds its dual (all classes but the target).</summary>
public enum DualSeed
{
    /// <summary><c>|z_j|/(K−1)</c> at every c ≠ j (DESIGN.md default).</summary>
    Uniform,

    /// <summary><c>|z_c|</c> at every c ≠ j, as the authors' released code does.</summary>
    PerClassLogit,
}

/// <summary>Parsing and printing of method names as the CLI spells them.</summary>
public static class ExplainMethods
{
    /// <summary>CLI names in enum order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["lrp", "clrp1", "clrp2", "sglrp", "gradient", "gradient-input"];

    public static string ToName(this ExplainMethod method) => Names[(int)method];

    public static ExplainMethod Parse(string name)
    {
        int i = Names.ToList().IndexOf(name?.Trim().ToLowerInvariant() ?? string.Empty);
        return i >= 0 ? (ExplainMethod)i : throw new InvalidOptionsException($"unknown method '{name}'; expected one of {string.Join(", ", Names)}.");
    }

    /// <summary>True for CLRP1/CLRP2, which walk a dual seed per target.</summary>
    public static bool IsContrastive(this ExplainMethod method) => method is ExplainMethod.Clrp1 or ExplainMethod.Clrp2;

    /// <summary>True for the gradient baselines, which ignore the rules.</summary>
    public static bool IsGradient(this ExplainMethod method) => method is ExplainMethod.Gradient or ExplainMethod.GradientInput;
}
