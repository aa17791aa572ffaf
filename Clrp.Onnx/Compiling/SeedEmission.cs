using Clrp.Onnx.Emitting;
using Clrp.Onnx.Explaining;

namespace Clrp.Onnx.Compiling;

/// <summary>The seeds of a compiled graph, built from its logits and targets inside the graph (DESIGN §1, methods).</summary>
/// <param name="Rows">[N·S, K] float: the walked seeds, image-major, S = <see cref="SeedBatch.RowsPerImage"/>.</param>
/// <param name="Classes">[N, k] int64: the resolved classes.</param>
/// <param name="OneHot">[N, k, K] float: e_j per target.</param>
/// <param name="TargetLogitMagnitude">[N, k, 1] float: |z_j|.</param>
/// <param name="RowOnes">[N·S, 1] float ones (for zero relevance rows).</param>
/// <param name="NegatedUnits">CLRP2: [N·S] int64, the negated unit of each dual row and −1 elsewhere; else null.</param>
/// <param name="TargetSeedSums">[N, k]: Σ of each target seed.</param>
/// <param name="DualSeedSums">[N, k] for CLRP: Σ of each dual seed; else null.</param>
internal sealed record EmittedSeeds(string Rows, string Classes, string OneHot, string TargetLogitMagnitude, string RowOnes, string? NegatedUnits, string TargetSeedSums, string? DualSeedSums);

/// <summary>
/// Emits target resolution and seed construction. Targets: c ≥ 0 is class c, −r the class ranked r by the logits (TopK,
/// ties to the lower index). Seeds per method: LRP, CLRP targets and CLRP2 duals <c>e_j·|z_j|</c>; gradients <c>e_j</c>;
/// SGLRP <c>p_j(e_j − p)</c>; CLRP1 with one target its explicit dual, with k targets one shared extra row per image, all
/// ones (uniform dual) or |z| (logits dual), from which the duals are combined after the walk (<see cref="SeedBatch.Compiled"/>).
/// </summary>
internal static class SeedEmission
{
    public static EmittedSeeds Emit(OnnxEmitter e, string logits2d, string targets, int classes, ExplainMethod method, DualSeed dualSeed, SeedBatch layout)
    {
        int k = layout.K;
        string resolved = ResolveTargets(e, logits2d, targets, classes, k);
        string range = e.Longs(Enumerable.Range(0, classes).Select(c => (long)c).ToArray(), [1, 1, classes], "classes");
        string oneHot = e.Cast(e.Node("Equal", [e.Reshape(resolved, -1, k, 1), range]), OnnxEmitter.FloatType);
        string logits3 = e.Reshape(logits2d, -1, 1, classes);
        string targetLogit = e.Reduce("ReduceSum", e.Node("Mul", [oneHot, logits3]), [2], keepDims: true);
        string magnitude = e.Node("Abs", [targetLogit]);

        string targetSeeds = method switch
        {
            ExplainMethod.Gradient or ExplainMethod.GradientInput => oneHot,
            ExplainMethod.Sglrp => Sglrp(e, logits2d, oneHot, classes),
            _ => e.Node("Mul", [oneHot, magnitude]),
        };

        string all = targetSeeds;
        string? dualSums = null;
        string targetSums = SeedSum(e, targetSeeds);
        if (method == ExplainMethod.Clrp1 && layout.ExplicitDuals)
        {
            // Explicit duals: |z_j|/(K − 1) (or |z_c|) on every other class than the target's.
            string others = e.Node("Sub", [e.Scalar(1f), oneHot]);
            string dualSeeds = dualSeed == DualSeed.Uniform
                ? e.Node("Div", [e.Node("Mul", [others, magnitude]), e.Scalar(classes - 1)])
                : e.Node("Mul", [others, e.Node("Abs", [logits3])]);
            all = e.Node("Concat", [targetSeeds, dualSeeds], OnnxEmitter.Int("axis", 1));
            dualSums = SeedSum(e, dualSeeds);
        }
        else if (method == ExplainMethod.Clrp1)
        {
            // One shared row: M·1 (uniform dual) or M·|z| (logits dual).
            string absLogits = e.Node("Abs", [logits3]);
            string extra = dualSeed == DualSeed.Uniform ? e.Node("Add", [e.Node("Mul", [logits3, e.Scalar(0f)]), e.Scalar(1f)]) : absLogits;
            all = e.Node("Concat", [targetSeeds, extra], OnnxEmitter.Int("axis", 1));
            string magnitudes = e.Reshape(magnitude, -1, k);
            dualSums = dualSeed == DualSeed.Uniform
                ? magnitudes // (K − 1) entries of |z_j|/(K − 1)
                : e.Node("Sub", [SeedSum(e, e.Reshape(absLogits, -1, 1, classes)), magnitudes]);
        }
        else if (method == ExplainMethod.Clrp2)
        {
            all = e.Node("Concat", [targetSeeds, targetSeeds], OnnxEmitter.Int("axis", 1));
            dualSums = targetSums;
        }

        string rows = e.Reshape(all, -1, classes);
        string rowOnes = e.Node("Add", [e.Node("Mul", [e.Slice(rows, [0], [1], [1]), e.Scalar(0f)]), e.Scalar(1f)]);
        string? negated = null;
        if (method == ExplainMethod.Clrp2)
        {
            // Target rows negate nothing (−1), dual row k + i negates its target's class.
            string none = e.Node("Sub", [e.Node("Mul", [resolved, e.Longs([0], [], "zero")]), e.Longs([1], [], "one")]);
            negated = e.Reshape(e.Node("Concat", [none, resolved], OnnxEmitter.Int("axis", 1)), -1);
        }

        return new EmittedSeeds(rows, resolved, oneHot, magnitude, rowOnes, negated, targetSums, dualSums);
    }

    /// <summary>
    /// Σ of each seed over the classes (last axis of [N, k, K]), accumulated in float64 like the managed engine's sums: the
    /// value is then the same whatever the batch size (a float32 reduction's order, and so its last bit, depends on it).
    /// </summary>
    private static string SeedSum(OnnxEmitter e, string seeds) =>
        e.Cast(e.Reduce("ReduceSum", e.Cast(seeds, 11), [2], keepDims: false), OnnxEmitter.FloatType);

    /// <summary>
    /// [N, k] classes from targets [N|1, k]: t ≥ 0 stays, t &lt; 0 becomes the class ranked −t. Int64 arithmetic
    /// (<c>t + neg·(ranked − t)</c>) and comparisons on float casts, so the same nodes serve opsets 7 to 22.
    /// </summary>
    private static string ResolveTargets(OnnxEmitter e, string logits2d, string targets, int classes, int k)
    {
        (_, string sorted) = e.TopK(logits2d, classes, axis: 1);
        string negative = e.Cast(e.LessFloat(e.Cast(targets, OnnxEmitter.FloatType), e.Scalar(0f)), OnnxEmitter.Int64Type);
        string rank = e.Node("Sub", [e.Node("Mul", [targets, e.Longs([-1], [], "minus_one")]), e.Longs([1], [], "one")]);
        string positions = e.Longs(Enumerable.Range(0, classes).Select(c => (long)c).ToArray(), [1, 1, classes], "positions");
        string pick = e.Cast(e.Node("Equal", [e.Reshape(rank, -1, k, 1), positions]), OnnxEmitter.Int64Type);
        string ranked = e.Reduce("ReduceSum", e.Node("Mul", [pick, e.Reshape(sorted, -1, 1, classes)]), [2], keepDims: false);
        return e.Node("Add", [targets, e.Node("Mul", [negative, e.Node("Sub", [ranked, targets])])]);
    }

    /// <summary>
    /// SGLRP: <c>∂softmax_j/∂z = p_j(δ_jc − p_c)</c>, in float64 like the managed engine: SGLRP's map is a small difference of
    /// nearly equal class maps, so float32 seeds would show up in it a thousandfold. The target entry p_j(1 − p_j) is written
    /// p_j·Σ_{c≠j} p_c, free of cancellation for a confident class.
    /// </summary>
    private static string Sglrp(OnnxEmitter e, string logits2d, string oneHot, int classes)
    {
        const long Float64 = 11;
        string p = e.Reshape(e.Softmax2d(e.Cast(logits2d, Float64)), -1, 1, classes);
        string hot = e.Cast(oneHot, Float64);
        string others = e.Node("Mul", [e.Node("Sub", [e.Cast(e.Scalar(1f), Float64), hot]), p]);
        string pj = e.Reduce("ReduceSum", e.Node("Mul", [hot, p]), [2], keepDims: true);
        string rest = e.Reduce("ReduceSum", others, [2], keepDims: true);
        return e.Cast(e.Node("Mul", [pj, e.Node("Sub", [e.Node("Mul", [hot, rest]), others])]), OnnxEmitter.FloatType);
    }
}
