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
    /// <summary>The parity bound: relative L2 between the engines' maps.</summary>
    public const double Tolerance = 1e-5;

    public static IReadOnlyList<ExplainMethod> Methods { get; } = Enum.GetValues<ExplainMethod>();

    /// <summary>
    /// The composites of the large grids (torchvision graphs, ResNet18): every preset but paper-zplus-sums, which differs from
    /// paper at residual sums only and is covered on the three committed models with residual sums (CompiledParityTests:
    /// fashion-pair-resnet, emotion, ppocr), so CI does not pay a seventh composite on every graph.
    /// </summary>
    public static IReadOnlyList<string> GridComposites { get; } = [.. CompositePresets.Names.Where(n => n != "paper-zplus-sums")];

    /// <summary>
    /// Explains <paramref name="input"/> with both engines for every method and composite and returns one line per case
    /// with the worst relative L2 error; fails at the first case above <see cref="Tolerance"/>.
    /// </summary>
    public static List<string> AssertParity(string path, Tensor input, string what, IEnumerable<string>? composites = null, string? output = null, int topK = 2)
    {
        var lines = new List<string>();
        bool residualSums = ClrpExplainer.Inspect(path, new ExplainerOptions { OutputName = output }).Nodes.Any(n => n.Role.StartsWith("residual sum", StringComparison.Ordinal));
        foreach (string composite in composites ?? CompositePresets.Names)
        {
            if (SameAsPaper(composite, residualSums))
            {
                lines.Add($"{what} {composite}: no residual sums, identical to paper");
                continue;
            }

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
                string label = $"{what} {composite} {method.ToName()}";
                if (BothRefuse(() => managed.Explain(input, target), () => compiled.Explain(input, target), label) is { } refusal)
                {
                    lines.Add(refusal);
                    continue;
                }

                Explanation expected = managed.Explain(input, target);
                Explanation actual = compiled.Explain(input, target);
                Assert.AreEqual("compiled", actual.Engine, $"{label}: engine");
                Assert.AreEqual("managed", expected.Engine, $"{label}: reference engine");
                // CLRP2 with ε on the logit layer: the dual equals the target and the map is float noise (the explainer warns).
                bool degenerate = warnings.Any(w => w.Contains("CLRP2 map is ~0", StringComparison.Ordinal));
                lines.Add(Check(expected, actual, label, compareMap: !degenerate, lrp, () => managed.Explain(Perturbed(input), target)));
                lrp = method == ExplainMethod.Lrp ? expected : lrp;
            }
        }

        return lines;
    }

    /// <summary>
    /// paper-zplus-sums differs from paper only at residual sums: on a model without them it is the same walk, so its parity
    /// is paper's (skipping it keeps the grids' CI time where it was).
    /// </summary>
    private static bool SameAsPaper(string composite, bool residualSums) => composite == "paper-zplus-sums" && !residualSums;

    /// <summary>
    /// As <see cref="AssertParity"/>, for large grids: one plan, one shape probe and one set of the managed engine's kernel
    /// sessions per composite, shared by every method (the engines are built from the plan directly, as ClrpExplainer
    /// builds them).
    /// </summary>
    public static List<string> AssertParityShared(string path, Tensor input, string what, IEnumerable<string> composites, IReadOnlyList<ExplainMethod> methods, int topK = 2)
    {
        var lines = new List<string>();
        foreach (string composite in composites)
        {
            Composite rules = CompositePresets.ByName(composite);
            using Planning.ExplanationPlan plan = Planning.ExplanationPlan.Build(Clrp.Onnx.Graph.OnnxModelReader.Read(path), null, rules, strict: true);
            int[] image = input.Shape[1..];
            if (SameAsPaper(composite, plan.Propagators.Values.Any(p => p is Onnx.Operators.NormSumPropagator)))
            {
                lines.Add($"{what} {composite}: no residual sums, identical to paper");
                continue;
            }

            Dictionary<string, int[]> shapes = Clrp.Onnx.Execution.ShapeProbe.Run(plan.Original, plan.Input, image, plan.ProbedValues);
            bool epsilonLogitLayer = plan.LogitLayer is { } logitLayer && plan.Rules[logitLayer.Name] is Clrp.Onnx.Rules.EpsilonRule;
            Explanation? lrp = null;
            foreach (ExplainMethod method in methods)
            {
                if (method.IsGradient() && composite != "paper")
                {
                    continue;
                }

                var options = new ExplainerOptions { Method = method, Rules = rules };
                using IExplanationEngine managed = ManagedEngine.Create(plan, options, rules, shapes);
                var request = new Onnx.Compiling.CompileRequest(method, options.DualSeed, rules, null, topK, image);
                using IExplanationEngine compiled = Onnx.Compiling.CompiledEngine.Open(Onnx.Compiling.ExplainerCompiler.Compile(plan, request, shapes), Clrp.Onnx.Execution.Device.Cpu, null, path, batchFixedToOne: false);
                string label = $"{what} {composite} {method.ToName()}";
                if (BothRefuse(() => managed.Explain(input, Target.TopK(topK)), () => compiled.Explain(input, Target.TopK(topK)), label) is { } refusal)
                {
                    lines.Add(refusal);
                    continue;
                }

                Explanation expected = managed.Explain(input, Target.TopK(topK));
                Explanation actual = compiled.Explain(input, Target.TopK(topK));
                lines.Add(Check(expected, actual, label, compareMap: !(method == ExplainMethod.Clrp2 && epsilonLogitLayer), lrp, () => managed.Explain(Perturbed(input), Target.TopK(topK))));
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
    public static string Check(Explanation expected, Explanation actual, string label, bool compareMap = true, Explanation? lrp = null, Func<Explanation>? alternative = null)
    {
        CollectionAssert.AreEqual(expected.TargetClasses.ToArray(), actual.TargetClasses.ToArray(), $"{label}: explained classes");
        Compare.Close(actual.Logits.Data, expected.Logits.Data, 1e-5, $"{label}: logits");
        CollectionAssert.AreEqual(expected.Relevance.Shape, actual.Relevance.Shape, $"{label}: relevance shape");
        CollectionAssert.AreEqual(expected.Heatmap.Shape, actual.Heatmap.Shape, $"{label}: heatmap shape");
        List<(string Name, double Error)> errors = Errors(expected, actual, compareMap, lrp);
        (string worst, double error) = errors.MaxBy(e => e.Error);
        string line = string.Create(CultureInfo.InvariantCulture, $"{label}: worst relative L2 {error:E2} ({worst})");
        static string Describe(List<(string Name, double Error)> list) => string.Join(", ", list.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Name} {e.Error:E2}")));

        Assert.AreEqual(expected.Diagnostics.Count, actual.Diagnostics.Count, $"{label}: diagnostics");
        double logitScale = expected.Logits.Data.Max(v => Math.Abs((double)v));
        double[] magnitudes = RowMagnitudes(expected);
        var inputSumErrors = new double[expected.Diagnostics.Count];
        var inputSumBounds = new double[expected.Diagnostics.Count];
        for (int i = 0; i < expected.Diagnostics.Count; i++)
        {
            SeedDiagnostics e = expected.Diagnostics[i], a = actual.Diagnostics[i];
            Assert.AreEqual((e.Image, e.Class, e.Seed), (a.Image, a.Class, a.Seed), $"{label}: diagnostics {i}");
            // Sums can cancel to ~0 (SGLRP's seed sums to 0 in theory; z^B and ε make signed maps): the seed sum is compared
            // with a floor at the logits' scale, the input sum against the row's Σ|R|.
            double scale = Math.Max(Math.Abs(e.SeedSum), Math.Abs(e.InputSum));
            Assert.IsTrue(Math.Abs(e.SeedSum - a.SeedSum) <= (1e-5 * scale) + (1e-6 * logitScale), $"{label}: seed sum {i}: {a.SeedSum:G9} vs {e.SeedSum:G9}");
            inputSumErrors[i] = Math.Abs(e.InputSum - a.InputSum);
            inputSumBounds[i] = (1e-5 * Math.Max(scale, magnitudes[i])) + (1e-6 * logitScale);
        }

        bool mapsWithin = errors.All(e => e.Error <= Tolerance);
        bool sumsWithin = inputSumErrors.Zip(inputSumBounds).All(p => p.First <= p.Second);
        if ((!mapsWithin || !sumsWithin) && alternative is not null)
        {
            // An ill-conditioned case (ε or γ with tiny stabilisers on random weights: denominators near 0 amplify rounding
            // by orders of magnitude, and conservation is lost): the managed walk on the input moved by float32 rounding
            // (±1e-7 relative) measures how far the reference itself moves under rounding. The compiled graph must stay
            // within four times that, for the maps and for the input sums.
            Explanation moved = alternative();
            CollectionAssert.AreEqual(expected.TargetClasses.ToArray(), moved.TargetClasses.ToArray(), $"{label}: the moved input explains other classes; its sensitivity says nothing");
            List<(string Name, double Error)> own = Errors(expected, moved, compareMap, lrp);
            bool within = errors.Zip(own).All(p => p.First.Error <= Math.Max(Tolerance, 4 * p.Second.Error));
            Assert.IsTrue(within, $"{label}: {Describe(errors)} > {Tolerance:E0} and above 4× the reference's own rounding sensitivity ({Describe(own)})");
            for (int i = 0; i < inputSumErrors.Length; i++)
            {
                double ownError = Math.Abs(expected.Diagnostics[i].InputSum - moved.Diagnostics[i].InputSum);
                Assert.IsTrue(inputSumErrors[i] <= Math.Max(inputSumBounds[i], 4 * ownError), $"{label}: input sum {i}: {actual.Diagnostics[i].InputSum:G9} vs {expected.Diagnostics[i].InputSum:G9}, above 4× the reference's own rounding sensitivity ({ownError:G3})");
            }

            line += $"; ill-conditioned, within 4× the managed walk's own rounding sensitivity ({Describe(own)})";
        }
        else
        {
            Assert.IsTrue(mapsWithin, $"{label}: {Describe(errors)} > {Tolerance:E0}");
            for (int i = 0; i < inputSumErrors.Length; i++)
            {
                Assert.IsTrue(inputSumErrors[i] <= inputSumBounds[i], $"{label}: input sum {i}: {actual.Diagnostics[i].InputSum:G9} vs {expected.Diagnostics[i].InputSum:G9} (Σ|R| {magnitudes[i]:G4})");
            }
        }

        return line;
    }

    /// <summary>The maps' errors (see <see cref="Check"/>).</summary>
    private static List<(string Name, double Error)> Errors(Explanation expected, Explanation actual, bool compareMap, Explanation? lrp)
    {
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
            // CLRP1 top-k in the compiled graph: the dual is (|z_j|·M1 − R_j)/(K − 1), a difference of two maps of R's scale,
            // so its rounding is R's: measured against ‖R‖ + ‖R̄‖ (for z⁺ rules, where class maps add without cancelling,
            // that is within a factor of two of ‖R̄‖).
            errors.Add(("dual vs ‖R‖ + ‖R̄‖", Norm(Difference(actual.DualRelevance!.Data, expected.DualRelevance!.Data)) / (Norm(expected.TargetRelevance.Data) + Norm(expected.DualRelevance!.Data))));
        }

        return errors;
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

    /// <summary>
    /// When the reference refuses the input because the rules produced ±Inf/NaN (γ or ε with a tiny stabiliser on signed
    /// activations), the compiled engine must refuse it too; returns the summary line then, else null.
    /// </summary>
    private static string? BothRefuse(Func<Explanation> managed, Func<Explanation> compiled, string label)
    {
        try
        {
            managed();
            return null;
        }
        catch (NonFiniteRelevanceException)
        {
            Assert.ThrowsExactly<NonFiniteRelevanceException>(() => compiled(), $"{label}: the managed walk's relevance is not finite; the compiled graph's must not be either");
            return $"{label}: both engines refuse (non-finite relevance)";
        }
    }

    private static double Norm(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v)
        {
            sum += (double)x * x;
        }

        return Math.Sqrt(sum);
    }

    private static float[] Difference(float[] a, float[] b) => a.Zip(b, (x, y) => x - y).ToArray();

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

        return difference == 0 ? 0 : Math.Sqrt(difference / norm);
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
                double others = Enumerable.Range(0, classes).Where(c => c != j).Sum(c => Math.Exp(z[c] - max) / total); // 1 − p without cancelling
                double norm = Math.Sqrt(lrp.Relevance.Data.AsSpan(slot * length, length).ToArray().Sum(v => (double)v * v));
                scales[slot] = norm / Math.Max(Math.Abs(z[j]), 1e-30) * 2 * p * others;
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

    /// <summary>
    /// <paramref name="input"/> with every value moved by a seeded relative ±1e-7 (float32 rounding): the reference engine on
    /// it shows how much the explanation itself moves under rounding.
    /// </summary>
    public static Tensor Perturbed(Tensor input)
    {
        var random = new Random(7);
        var moved = new Tensor((float[])input.Data.Clone(), input.Shape);
        for (int i = 0; i < moved.Length; i++)
        {
            moved.Data[i] *= 1f + (float)((random.NextDouble() - 0.5) * 2e-7);
        }

        return moved;
    }

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
