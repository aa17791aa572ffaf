namespace Clrp.Onnx.Compiling;

/// <summary>
/// The inputs and outputs of a compiled explainer graph (what <c>clrp export</c> writes and any ONNX Runtime can run).
/// N images, k explained classes per image, K classes, and the model input's per-image shape (C, H, W for images).
/// </summary>
public static class CompiledNames
{
    /// <summary>
    /// Input, int64 [N, k] (or [1, k] for every image): the classes to explain. A value c ≥ 0 is class c; −r is the class
    /// ranked r by the logits (−1 the predicted class, −2 the runner-up, …): [[−1, …, −k]] explains the top k of every image.
    /// </summary>
    public const string Targets = "clrp.targets";

    /// <summary>Output, float [N, K]: the logits (the explained output, or the input of its final Softmax).</summary>
    public const string Logits = "clrp.logits";

    /// <summary>Output, int64 [N, k]: the classes explained (targets resolved).</summary>
    public const string Classes = "clrp.classes";

    /// <summary>Output, float [N, k, …input shape]: the method's final map (R for LRP, SGLRP and the gradients; the CLRP map for CLRP1/2).</summary>
    public const string Relevance = "clrp.relevance";

    /// <summary>Output, float [N, k, H, W]: the channel sum of <see cref="Relevance"/> (for other input ranks: the map itself).</summary>
    public const string Heatmap = "clrp.heatmap";

    /// <summary>Output, float [N, k] ([N, 2k] for CLRP: targets, then duals): Σ of each walked seed at the logits.</summary>
    public const string SeedSums = "clrp.seed_sums";

    /// <summary>Output, float, shaped like <see cref="SeedSums"/>: Σ of each seed's relevance at the input (conservation check).</summary>
    public const string InputSums = "clrp.input_sums";

    /// <summary>CLRP only, output float [N, k, …]: the target seeds' raw relevance R.</summary>
    public const string TargetRelevance = "clrp.target_relevance";

    /// <summary>CLRP only, output float [N, k, …]: the dual seeds' raw relevance R̄.</summary>
    public const string DualRelevance = "clrp.dual_relevance";

    /// <summary>CLRP only, output float [N, k, …]: <c>R/ΣR − R̄/ΣR̄</c> before clipping at 0.</summary>
    public const string SignedDifference = "clrp.signed_difference";
}
