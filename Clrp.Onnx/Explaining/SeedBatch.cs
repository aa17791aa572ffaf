namespace Clrp.Onnx.Explaining;

/// <summary>
/// How the relevance rows of one image are laid out (rows are image-major): the k targets first, then what the method
/// walks besides them — nothing (LRP, SGLRP, gradients), k explicit duals (CLRP2; CLRP1 in the managed engine), or one row
/// (CLRP1 in the compiled graph: every rule is linear in the relevance, so the uniform dual of class j is
/// <c>u·(M·1 − M·e_j)</c> and the logits dual <c>M·|z| − M·(|z_j|e_j)</c>, from one shared row M·1 or M·|z|).
/// </summary>
/// <param name="K">Classes explained per image.</param>
/// <param name="RowsPerImage">Rows walked per image.</param>
/// <param name="ExplicitDuals">True when rows k..2k−1 are the duals of the targets 0..k−1.</param>
internal sealed record SeedBatch(int K, int RowsPerImage, bool ExplicitDuals)
{
    /// <summary>The managed engine's layout: k rows, or 2k with explicit duals for CLRP.</summary>
    public static SeedBatch Explicit(ExplainMethod method, int k) =>
        method.IsContrastive() ? new SeedBatch(k, 2 * k, true) : new SeedBatch(k, k, false);

    /// <summary>The compiled graph's layout: CLRP1 walks k + 1 rows, CLRP2 2k (each dual negates another unit), others k.</summary>
    public static SeedBatch Compiled(ExplainMethod method, int k) => method switch
    {
        ExplainMethod.Clrp1 => new SeedBatch(k, k + 1, false),
        ExplainMethod.Clrp2 => new SeedBatch(k, 2 * k, true),
        _ => new SeedBatch(k, k, false),
    };

    /// <summary>True when row <paramref name="s"/> of an image is an explicit dual.</summary>
    public bool IsDual(int s) => ExplicitDuals && s >= K;

    /// <summary>The index (0..k−1) of the target row <paramref name="s"/> belongs to.</summary>
    public int TargetOf(int s) => s % K;
}
