using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.OperatorCoverage;

/// <summary>
/// Checks for one-op models <c>x → op → (Flatten) → logits</c>. For ops that are linear in x (routing, Resize, Reduce*),
/// ONNX Runtime gives the exact Jacobian J (run on the zero input and the unit vectors, <c>J e_i = y(e_i) − y(0)</c>), which
/// is the oracle of both modes: the gradient of logit j is row j of J, and the Norm relevance of seed <c>|y_j|</c> is
/// <c>R_i = x_i·J_ji / stab(Σ_i' x_i'·J_ji') · |y_j|</c> (for a copy J_ji ∈ {0, 1}: the seed goes to the copied element).
/// </summary>
internal static class CoverageHarness
{
    public const double Tolerance = 1e-5;

    public static Explanation Lrp(byte[] model, float[] x, int[] shape, Target target) =>
        ExplainerHarness.Explain(model, x, shape, new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = CompositePresets.Epsilon() }, target);

    public static Explanation Gradient(byte[] model, float[] x, int[] shape, Target target) =>
        ExplainerHarness.Explain(model, x, shape, new ExplainerOptions { Method = ExplainMethod.Gradient }, target);

    /// <summary>J [outputs, inputs] of a model affine in x, from ORT: one image at a time (constants concatenated to x have batch 1).</summary>
    public static double[,] Jacobian(byte[] model, int[] imageShape)
    {
        int d = imageShape.Aggregate(1, (a, b) => a * b);
        using var oracle = new OrtOracle(model);
        (float[] y0, _) = oracle.Run(new float[d], [1, .. imageShape]);
        var j = new double[y0.Length, d];
        for (int i = 0; i < d; i++)
        {
            var unit = new float[d];
            unit[i] = 1f;
            (float[] y, _) = oracle.Run(unit, [1, .. imageShape]);
            for (int o = 0; o < y0.Length; o++)
            {
                j[o, i] = (double)y[o] - y0[o];
            }
        }

        return j;
    }

    /// <summary>
    /// For one image and every logit j: ORT's logits, LRP (seed |y_j|) against the Norm formula over ORT's Jacobian, and the
    /// gradient against row j. Returns the Jacobian for further checks.
    /// </summary>
    public static double[,] AssertLinearOp(byte[] model, float[] x, int[] imageShape, string what, double tolerance = Tolerance)
    {
        double[,] jacobian = Jacobian(model, imageShape);
        int outputs = jacobian.GetLength(0), d = x.Length;
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. imageShape]);
        Explanation lrp = Lrp(model, x, [1, .. imageShape], Target.TopK(outputs));
        Explanation grad = Gradient(model, x, [1, .. imageShape], Target.TopK(outputs));
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{what}: logits vs ORT");
        for (int k = 0; k < outputs; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            double z = 0;
            for (int i = 0; i < d; i++)
            {
                z += x[i] * jacobian[j, i];
            }

            double s = Math.Abs(y[j]) / (z + (z >= 0 ? 1e-6 : -1e-6));
            double[] expected = Enumerable.Range(0, d).Select(i => x[i] * jacobian[j, i] * s).ToArray();
            Compare.Close(lrp.Relevance.Data.AsSpan(k * d, d), expected, tolerance, $"{what}: Norm relevance of output {j}");

            int gk = Enumerable.Range(0, outputs).First(q => grad.TargetClassOf(0, q) == j);
            double[] row = Enumerable.Range(0, d).Select(i => jacobian[j, i]).ToArray();
            Compare.Close(grad.Relevance.Data.AsSpan(gk * d, d), row, tolerance, $"{what}: gradient of output {j} vs ORT's Jacobian row");
        }

        return jacobian;
    }

    /// <summary>
    /// For a one-linear-layer model <c>y = Jx + b</c> (J and b from ORT) and every logit j: the gradient is row j of J, and LRP with
    /// <paramref name="rule"/> ("epsilon": <c>x_i·J_ji/stab(y_j)·|y_j|</c>, bias kept; "zplus": <c>(x_i·J_ji)⁺/stab(Σ(x·J)⁺)·|y_j|</c>,
    /// bias ignored) matches that float64 formula. The composite must give the layer that rule.
    /// </summary>
    public static void AssertLinearLayer(byte[] model, float[] x, int[] imageShape, Composites.Composite composite, string rule, string what, double tolerance = 1e-4)
    {
        double[,] jacobian = Jacobian(model, imageShape);
        int outputs = jacobian.GetLength(0), d = x.Length;
        (float[] y, _) = OrtOracle.RunOnce(model, x, [1, .. imageShape]);
        Explanation lrp = ExplainerHarness.Explain(model, x, [1, .. imageShape], new ExplainerOptions { Method = ExplainMethod.Lrp, Rules = composite }, Target.TopK(outputs));
        Explanation grad = Gradient(model, x, [1, .. imageShape], Target.TopK(outputs));
        Compare.Close(lrp.Logits.Data, y, 1e-6, $"{what}: logits vs ORT");
        for (int k = 0; k < outputs; k++)
        {
            int j = lrp.TargetClassOf(0, k);
            double[] terms = Enumerable.Range(0, d).Select(i => x[i] * jacobian[j, i]).ToArray();
            double[] expected = rule == "epsilon"
                ? terms.Select(t => t * Math.Abs(y[j]) / (y[j] + (y[j] >= 0 ? 1e-6 : -1e-6))).ToArray()
                : terms.Select(t => Math.Max(0, t) * Math.Abs(y[j]) / (terms.Sum(u => Math.Max(0, u)) + 1e-9)).ToArray();
            Compare.Close(lrp.Relevance.Data.AsSpan(k * d, d), expected, tolerance, $"{what}: {rule} relevance of output {j}");

            int gk = Enumerable.Range(0, outputs).First(q => grad.TargetClassOf(0, q) == j);
            Compare.Close(grad.Relevance.Data.AsSpan(gk * d, d), Enumerable.Range(0, d).Select(i => jacobian[j, i]).ToArray(), tolerance, $"{what}: gradient of output {j}");
        }
    }

    /// <summary>Σ of a span in float64.</summary>
    public static double Sum(ReadOnlySpan<float> values)
    {
        double s = 0;
        foreach (float v in values)
        {
            s += v;
        }

        return s;
    }

    /// <summary>Normal(0, 1) values that stay away from 0 (|v| ≥ 0.1), so Norm stabilisers do not matter.</summary>
    public static float[] AwayFromZero(int seed, int count) =>
        RandomData.Normal(new Random(seed), count).Select(v => MathF.Abs(v) < 0.1f ? (v < 0 ? v - 0.1f : v + 0.1f) : v).ToArray();

    /// <summary>Positive values in [0.5, 2), so sums do not cancel.</summary>
    public static float[] Positive(int seed, int count) => RandomData.Uniform(new Random(seed), count, 0.5, 2.0);
}
