using System.Globalization;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.Compiling;

/// <summary>
/// Compiled engine against the managed walk (the reference) on one model: every method × composite, a batch of two
/// images, top-2 targets (so CLRP1's compiled k + 1 rows are checked against the managed engine's explicit duals).
/// </summary>
internal static class ParityHarness
{
    /// <summary>The issue's parity bound: relative L2 between the engines' maps.</summary>
    public const double Tolerance = 1e-5;

    public static IReadOnlyList<ExplainMethod> Methods { get; } = Enum.GetValues<ExplainMethod>();

    /// <summary>
    /// Explains <paramref name="input"/> with both engines for every method and composite and returns one line per case
    /// with the worst relative L2 error; fails at the first case above <see cref="Tolerance"/>.
    /// </summary>
    public static List<string> AssertParity(string path, Tensor input, string what, IEnumerable<string>? composites = null, string? output = null, int topK = 2)
    {
        var lines = new List<string>();
        foreach (string composite in composites ?? CompositePresets.Names)
        {
            Explanation? lrp = null;
            foreach (ExplainMethod method in Methods)
            {
                if (method.IsGradient() && composite != "paper")
                {
                    continue; // the gradient ignores the rules: one composite covers it
                }

                Composite rules = CompositePresets.ByName(composite);
                var warnings = new List<string>();
                var options = new ExplainerOptions { Method = method, Rules = rules, OutputName = output, Log = warnings.Add };
                using ClrpExplainer managed = ClrpExplainer.Load(path, With(options, ExplainerEngine.Managed));
                using ClrpExplainer compiled = ClrpExplainer.Load(path, With(options, ExplainerEngine.Compiled));
                Target target = Target.TopK(topK);
                Explanation expected = managed.Explain(input, target);
                Explanation actual = compiled.Explain(input, target);
                string label = $"{what} {composite} {method.ToName()}";
                Assert.AreEqual("compiled", actual.Engine, $"{label}: engine");
                Assert.AreEqual("managed", expected.Engine, $"{label}: reference engine");
                // CLRP2 with ε on the logit layer: the dual equals the target and the map is float noise (the explainer warns).
                bool degenerate = warnings.Any(w => w.Contains("CLRP2 map is ~0", StringComparison.Ordinal));
                lines.Add(Check(expected, actual, label, compareMap: !degenerate, lrp));
                lrp = method == ExplainMethod.Lrp ? expected : lrp;
            }
        }

        return lines;
    }

    /// <summary>
    /// Compares two explanations of the same request; returns a summary line. Raw relevance (LRP, gradients, CLRP's R and R̄)
    /// is compared by relative L2. Maps that are small differences of large quantities are compared against the scale of
    /// those quantities, since float32 rounding of either engine is amplified by the cancellation: the CLRP map
    /// <c>R/ΣR − R̄/ΣR̄</c> against the conditioning of its two normalised maps (<see cref="NormalisedScales"/>), and SGLRP's <c>Σ_c s_c·M e_c</c> (seed s = p_j(e_j − p), of L1 norm 2p_j(1 − p_j))
    /// against ‖M e_j‖·‖s‖₁, with ‖M e_j‖ = ‖R_LRP‖/|z_j| from the same composite's LRP map.
    /// </summary>
    public static string Check(Explanation expected, Explanation actual, string label, bool compareMap = true, Explanation? lrp = null)
    {
        CollectionAssert.AreEqual(expected.TargetClasses.ToArray(), actual.TargetClasses.ToArray(), $"{label}: explained classes");
        Compare.Close(actual.Logits.Data, expected.Logits.Data, 1e-5, $"{label}: logits");
        CollectionAssert.AreEqual(expected.Relevance.Shape, actual.Relevance.Shape, $"{label}: relevance shape");
        CollectionAssert.AreEqual(expected.Heatmap.Shape, actual.Heatmap.Shape, $"{label}: heatmap shape");
        var errors = new List<(string Name, double Error)>();
        if (compareMap && expected.Method.IsContrastive())
        {
            double[] scales = NormalisedScales(expected.TargetRelevance!).Zip(NormalisedScales(expected.DualRelevance!), (t, d) => t + d).ToArray();
            errors.Add(("map vs its conditioning", ScaledError(actual.Relevance, expected.Relevance, scales)));
        }
        else if (compareMap && expected.Method == ExplainMethod.Sglrp && lrp is not null)
        {
            errors.Add(("map vs ‖M e_j‖·‖s‖₁", ScaledError(actual.Relevance, expected.Relevance, SglrpScales(expected, lrp))));
        }
        else if (compareMap)
        {
            errors.Add(("map", Compare.RelativeL2(actual.Relevance.Data, expected.Relevance.Data)));
            errors.Add(("heatmap", Compare.RelativeL2(actual.Heatmap.Data, expected.Heatmap.Data)));
        }

        if (expected.TargetRelevance is not null)
        {
            errors.Add(("target", Compare.RelativeL2(actual.TargetRelevance!.Data, expected.TargetRelevance.Data)));
            errors.Add(("dual", Compare.RelativeL2(actual.DualRelevance!.Data, expected.DualRelevance!.Data)));
        }

        (string worst, double error) = errors.MaxBy(e => e.Error);
        string line = string.Create(CultureInfo.InvariantCulture, $"{label}: worst relative L2 {error:E2} ({worst})");
        Assert.IsTrue(errors.All(e => e.Error <= Tolerance), $"{label}: {string.Join(", ", errors.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Name} {e.Error:E2}")))} > {Tolerance:E0}");
        Assert.AreEqual(expected.Diagnostics.Count, actual.Diagnostics.Count, $"{label}: diagnostics");
        double logitScale = expected.Logits.Data.Max(v => Math.Abs((double)v));
        double[] magnitudes = RowMagnitudes(expected);
        for (int i = 0; i < expected.Diagnostics.Count; i++)
        {
            SeedDiagnostics e = expected.Diagnostics[i], a = actual.Diagnostics[i];
            Assert.AreEqual((e.Image, e.Class, e.Seed), (a.Image, a.Class, a.Seed), $"{label}: diagnostics {i}");
            // Sums can cancel to ~0 (SGLRP's seed sums to 0 in theory; z^B and ε make signed maps): the seed sum is compared
            // with a floor at the logits' scale, the input sum against the row's Σ|R|.
            double scale = Math.Max(Math.Abs(e.SeedSum), Math.Abs(e.InputSum));
            Assert.IsTrue(Math.Abs(e.SeedSum - a.SeedSum) <= (1e-5 * scale) + (1e-6 * logitScale), $"{label}: seed sum {i}: {a.SeedSum:G9} vs {e.SeedSum:G9}");
            Assert.IsTrue(Math.Abs(e.InputSum - a.InputSum) <= (1e-5 * Math.Max(scale, magnitudes[i])) + (1e-6 * logitScale), $"{label}: input sum {i}: {a.InputSum:G9} vs {e.InputSum:G9} (Σ|R| {magnitudes[i]:G4})");
        }

        return line;
    }

    /// <summary>Σ|R| of every walked row in diagnostics order (image-major; targets, then duals), 0 where the map is not R.</summary>
    private static double[] RowMagnitudes(Explanation e)
    {
        int n = e.Logits.Shape[0], k = e.TargetsPerImage, perImage = e.Diagnostics.Count / n;
        Tensor? targets = e.TargetRelevance ?? (e.Method == ExplainMethod.GradientInput ? null : e.Relevance);
        int length = e.Relevance.Length / (n * k);
        var result = new double[e.Diagnostics.Count];
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < perImage; s++)
            {
                Tensor? source = s < k ? targets : e.DualRelevance;
                int slot = (img * k) + (s % k);
                result[(img * perImage) + s] = source is null ? 0 : source.Data.AsSpan(slot * length, length).ToArray().Sum(v => Math.Abs((double)v));
            }
        }

        return result;
    }

    /// <summary>√(Σ‖Δ_s‖²) / √(Σ scale_s²) over the [N·k] slices of two maps [N, k, …].</summary>
    private static double ScaledError(Tensor actual, Tensor expected, double[] scales)
    {
        int length = expected.Length / scales.Length;
        double difference = 0, norm = 0;
        for (int s = 0; s < scales.Length; s++)
        {
            for (int i = s * length; i < (s + 1) * length; i++)
            {
                double d = (double)actual.Data[i] - expected.Data[i];
                difference += d * d;
            }

            norm += scales[s] * scales[s];
        }

        return Math.Sqrt(difference / norm);
    }

    /// <summary>
    /// Per slice of a raw relevance [N, k, …], the scale at which float32 rounding shows in R/ΣR: <c>‖R‖/|ΣR|·(1 + ‖R‖₁/|ΣR|)</c>
    /// (a relative error ε in R moves ΣR by up to ε‖R‖₁; for signed maps whose sum nearly cancels that dominates).
    /// </summary>
    private static double[] NormalisedScales(Tensor raw)
    {
        int slices = raw.Shape[0] * raw.Shape[1], length = raw.Length / slices;
        return Enumerable.Range(0, slices).Select(s =>
        {
            ReadOnlySpan<float> r = raw.Data.AsSpan(s * length, length);
            double sum = 0, squares = 0, absolute = 0;
            foreach (float v in r)
            {
                sum += v;
                squares += (double)v * v;
                absolute += Math.Abs(v);
            }

            double normaliser = Math.Abs(sum) < 1e-12 ? 1 : Math.Abs(sum);
            return Math.Sqrt(squares) / normaliser * (1 + (absolute / normaliser));
        }).ToArray();
    }

    /// <summary>‖R_LRP‖/|z_j| · 2p_j(1 − p_j) per slice.</summary>
    private static double[] SglrpScales(Explanation sglrp, Explanation lrp)
    {
        int n = sglrp.Logits.Shape[0], k = sglrp.TargetsPerImage, classes = sglrp.Logits.RowLength, length = lrp.Relevance.Length / (n * k);
        var scales = new double[n * k];
        for (int img = 0; img < n; img++)
        {
            double[] z = sglrp.Logits.Row(img).ToArray().Select(v => (double)v).ToArray();
            double max = z.Max(), total = z.Sum(v => Math.Exp(v - max));
            for (int i = 0; i < k; i++)
            {
                int j = sglrp.TargetClassOf(img, i), slot = (img * k) + i;
                double p = Math.Exp(z[j] - max) / total;
                double norm = Math.Sqrt(lrp.Relevance.Data.AsSpan(slot * length, length).ToArray().Sum(v => (double)v * v));
                scales[slot] = norm / Math.Max(Math.Abs(z[j]), 1e-30) * 2 * p * (1 - p);
            }
        }

        return scales;
    }

    private static ExplainerOptions With(ExplainerOptions o, ExplainerEngine engine) => new()
    {
        Method = o.Method,
        Rules = o.Rules,
        OutputName = o.OutputName,
        Bounds = o.Bounds,
        Log = o.Log,
        DualSeed = o.DualSeed,
        Engine = engine,
    };

    /// <summary>A batch of <paramref name="n"/> inputs of <paramref name="shape"/> (per image) from a seeded normal distribution.</summary>
    public static Tensor RandomInput(int seed, int n, params int[] shape)
    {
        var random = new Random(seed);
        var t = new Tensor([n, .. shape]);
        for (int i = 0; i < t.Length; i++)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            t.Data[i] = (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }

        return t;
    }
}
