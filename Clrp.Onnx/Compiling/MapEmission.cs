using Clrp.Onnx.Emitting;
using Clrp.Onnx.Explaining;

namespace Clrp.Onnx.Compiling;

/// <summary>The method's outputs as emitted values.</summary>
internal sealed record EmittedMaps(string Relevance, string Heatmap, string InputSums, string? Target, string? Dual, string? Signed);

/// <summary>
/// Emits the method's final map from the walked relevance (DESIGN §1): R for LRP, SGLRP and the gradient; x ⊙ R for
/// Gradient⊙Input; for CLRP the duals (explicit rows for CLRP2; for CLRP1 combined from the shared row,
/// <c>(|z_j|·M1 − R_j)/(K − 1)</c> or <c>M|z| − R_j</c>) and the map <c>max(0, R/ΣR − R̄/ΣR̄)</c>, a |Σ| below 1e-12 counting
/// as 1. The heatmap is the channel sum of image maps.
/// </summary>
internal static class MapEmission
{
    private const float SumFloor = 1e-12f;

    /// <param name="e">The emitter.</param>
    /// <param name="walked">Relevance at the input, [N·S, …row].</param>
    /// <param name="input">The model input, [N, …row].</param>
    /// <param name="row">The input's per-image shape.</param>
    /// <param name="seeds">The seeds (for |z_j|).</param>
    /// <param name="classes">K.</param>
    /// <param name="method">The method.</param>
    /// <param name="dualSeed">CLRP1's dual.</param>
    /// <param name="layout">The row layout.</param>
    /// <param name="channelsLast">The input is [N,H,W,C] (<see cref="Planning.ExplanationPlan.ChannelsLast"/>).</param>
    public static EmittedMaps Emit(OnnxEmitter e, string walked, string input, int[] row, EmittedSeeds seeds, int classes, ExplainMethod method, DualSeed dualSeed, SeedBatch layout, bool channelsLast = false)
    {
        int k = layout.K, rank = row.Length;
        long[] rowDims = row.Select(d => (long)d).ToArray();
        long[] rowAxes = Enumerable.Range(2, rank).Select(a => (long)a).ToArray();
        string perImage = e.Reshape(walked, [-1, layout.RowsPerImage, .. rowDims]);
        string target = e.Slice(perImage, [0], [k], [1]);
        string targetSums = Sum(e, target, rowAxes);
        string Flat(string sums) => e.Reshape(sums, -1, k);

        switch (method)
        {
            case ExplainMethod.GradientInput:
                string map = e.Node("Mul", [target, e.Reshape(input, [-1, 1, .. rowDims])]);
                return new EmittedMaps(map, Heatmap(e, map, rank, channelsLast), Flat(targetSums), null, null, null);
            case ExplainMethod.Clrp1 or ExplainMethod.Clrp2:
                string dual = layout.ExplicitDuals ? e.Slice(perImage, [k], [2 * k], [1]) : Clrp1Dual(e, perImage, target, seeds, classes, dualSeed, k, rank);
                string dualSums = Sum(e, dual, rowAxes);
                string signed = e.Node("Sub", [e.Node("Div", [target, Normaliser(e, targetSums)]), e.Node("Div", [dual, Normaliser(e, dualSums)])]);
                string contrast = e.Node("Relu", [signed]);
                string sums = e.Node("Concat", [Flat(targetSums), Flat(dualSums)], OnnxEmitter.Int("axis", 1));
                return new EmittedMaps(contrast, Heatmap(e, contrast, rank, channelsLast), sums, target, dual, signed);
            default:
                return new EmittedMaps(target, Heatmap(e, target, rank, channelsLast), Flat(targetSums), null, null, null);
        }
    }

    /// <summary>CLRP1's duals from the shared row E = M·1 or M·|z|: <c>(|z_j|·E − R_j)/(K − 1)</c> or <c>E − R_j</c>.</summary>
    private static string Clrp1Dual(OnnxEmitter e, string perImage, string target, EmittedSeeds seeds, int classes, DualSeed dualSeed, int k, int rank)
    {
        string shared = e.Slice(perImage, [k], [k + 1], [1]);
        if (dualSeed == DualSeed.PerClassLogit)
        {
            return e.Node("Sub", [shared, target]);
        }

        string magnitude = e.Reshape(seeds.TargetLogitMagnitude, [-1, k, .. Enumerable.Repeat(1L, rank)]);
        string scaled = e.Node("Sub", [e.Node("Mul", [magnitude, shared]), target]);
        return e.Node("Div", [scaled, e.Scalar(classes - 1)]);
    }

    /// <summary>
    /// ΣR over each map, accumulated in float64 as the managed engine does: relevance is signed (z^B, SGLRP), and a float32
    /// sum of a 224² map that nearly cancels keeps only a few digits.
    /// </summary>
    private static string Sum(OnnxEmitter e, string map, long[] rowAxes) =>
        e.Cast(e.Reduce("ReduceSum", e.Cast(map, 11), rowAxes, keepDims: true), OnnxEmitter.FloatType);

    /// <summary>ΣR, or 1 where |ΣR| &lt; 1e-12.</summary>
    private static string Normaliser(OnnxEmitter e, string sums) =>
        e.Select(e.LessFloat(e.Node("Abs", [sums]), e.Scalar(SumFloor)), e.Scalar(1f), sums);

    /// <summary>Channel sum [N, k, H, W] of maps over [C, H, W] images (over [H, W, C] for channels-last inputs); other ranks keep the map.</summary>
    private static string Heatmap(OnnxEmitter e, string map, int rank, bool channelsLast) =>
        rank == 3 ? e.Reduce("ReduceSum", map, [channelsLast ? 4 : 2], keepDims: false) : map;
}
