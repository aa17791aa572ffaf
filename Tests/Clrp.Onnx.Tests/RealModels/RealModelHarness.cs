using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;
using CompositePresets = Clrp.Onnx.Composites.Composites;

namespace Clrp.Onnx.Tests.RealModels;

/// <summary>The figures the closing note of the coverage issue asks for, one line per model file.</summary>
internal sealed record RealModelFigures(string Model, int Nodes, string OpTypes, double LoadMs, double ExplainMs, double TargetRatio, double DualRatio)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"FIGURES | {Model} | {Nodes} | {OpTypes} | {LoadMs:F0} | {ExplainMs:F0} | {TargetRatio:F6} | {DualRatio:F6}");
}

/// <summary>
/// End-to-end checks of one real model file: every node supported (<see cref="ClrpExplainer.Inspect"/>), explanations
/// finite, the explainer's forward equal to ONNX Runtime's on the original file, conservation or the absorbed amount,
/// and the figures (node count, op types, load and explain time, ΣR_in/ΣR_out).
/// </summary>
internal static class RealModelHarness
{
    /// <summary>Conservation tolerance of z⁺-based composites where no bias absorbs relevance (the issue's 1e-3).</summary>
    public const double ConservationTolerance = 1e-3;

    /// <summary>Fails naming every node Inspect reports unsupported; returns the report.</summary>
    public static ModelReport AssertEveryNodeSupported(string path, ExplainerOptions options, string what)
    {
        ModelReport report = ClrpExplainer.Inspect(path, options);
        string[] unsupported = [.. report.Nodes.Where(n => !n.Supported).Select(n => $"{n.Node.Name} ({n.Node.OpType}, opset {n.Node.Opset}): {n.Role}")];
        Assert.AreEqual(0, unsupported.Length, $"{what}: unsupported nodes:\n  {string.Join("\n  ", unsupported)}");
        Assert.IsTrue(report.IsSupported, $"{what}: report says unsupported");
        return report;
    }

    /// <summary>Loads, explains and checks that every tensor of the explanation is finite and the shapes fit.</summary>
    public static Explanation ExplainFinite(string path, ExplainerOptions options, Tensor input, Target target, string what)
    {
        using var explainer = ClrpExplainer.Load(path, options);
        Explanation e = explainer.Explain(input, target);
        AssertFinite(e, input, what);
        return e;
    }

    public static void AssertFinite(Explanation e, Tensor input, string what)
    {
        Assert.IsTrue(e.Logits.AllFinite(), $"{what}: logits not finite");
        Assert.IsTrue(e.Relevance.AllFinite(), $"{what}: relevance not finite");
        Assert.IsTrue(e.Heatmap.AllFinite(), $"{what}: heatmap not finite");
        Assert.AreEqual(input.Length * e.TargetsPerImage, e.Relevance.Length, $"{what}: relevance size {e.Relevance.ShapeText} vs input {input.ShapeText}");
        Assert.IsTrue(e.Relevance.Data.Any(v => v != 0f), $"{what}: relevance is all zero");
        foreach (SeedDiagnostics d in e.Diagnostics)
        {
            Assert.IsTrue(double.IsFinite(d.SeedSum) && double.IsFinite(d.InputSum), $"{what}: diagnostics not finite: {d}");
        }
    }

    /// <summary>The explainer's logits equal ONNX Runtime's output of the original file (softmax applied first when the graph ends with one).</summary>
    public static void AssertLogitsMatchOrt(string path, Tensor input, Explanation e, bool outputIsSoftmax, double tolerance, string what)
    {
        (float[] ort, _) = OrtOracle.RunOnce(File.ReadAllBytes(path), input.Data, input.Shape);
        float[] mine = outputIsSoftmax ? Softmax(e.Logits) : e.Logits.Data;
        Compare.Close(mine, ort, tolerance, $"{what}: explainer forward vs ONNX Runtime on the original model");
    }

    /// <summary>
    /// ΣR at the input equals the seed's Σ for every seed (target and dual) within <paramref name="tolerance"/> relative.
    /// With <paramref name="liveOutputsOnly"/> (logits made by ReLU then pooling: SqueezeNet, a featurizer's pooled output),
    /// CLRP1's uniform dual seed <c>|z_j|/(K−1)</c> on an output that is exactly 0 has no contribution to flow back to (a
    /// dead unit), so the dual must conserve the seed placed on nonzero outputs: <c>|z_j|/(K−1)·#{c ≠ j : z_c ≠ 0}</c>.
    /// </summary>
    public static void AssertConserved(Explanation e, double tolerance, string what, bool liveOutputsOnly = false)
    {
        int k = e.Logits.RowLength;
        foreach (SeedDiagnostics d in e.Diagnostics)
        {
            double expected = d.SeedSum;
            if (liveOutputsOnly && d.Seed == "dual")
            {
                float[] z = e.Logits.Row(d.Image).ToArray();
                int live = Enumerable.Range(0, k).Count(c => c != d.Class && z[c] != 0f);
                expected = d.SeedSum * live / (k - 1);
            }

            double rel = Math.Abs(d.InputSum - expected) / Math.Abs(expected);
            Assert.IsTrue(rel <= tolerance, $"{what}: {d.Seed} seed of class {d.Class}: ΣR_in {d.InputSum:G9} vs {expected:G9} expected (seed {d.SeedSum:G9}; relative {rel:E2} > {tolerance:E0})");
        }
    }

    /// <summary>Where biases absorb relevance (ε on dense layers): the absorbed amount SeedSum − InputSum is reported and finite.</summary>
    public static IReadOnlyList<double> AbsorbedAmounts(Explanation e, string what)
    {
        Assert.IsTrue(e.Diagnostics.Count > 0, $"{what}: no diagnostics");
        var absorbed = new List<double>();
        foreach (SeedDiagnostics d in e.Diagnostics)
        {
            double a = d.SeedSum - d.InputSum;
            Assert.IsTrue(double.IsFinite(a), $"{what}: absorbed amount not finite: {d}");
            absorbed.Add(a);
        }

        return absorbed;
    }

    /// <summary>
    /// Where units without positive contributions absorb relevance under z⁺ (bias-only or negative-valued units): the
    /// absorbed amount is reported and finite, and ΣR_in/ΣR_out stays within [<paramref name="low"/>, <paramref name="high"/>]
    /// for every seed, a sanity bound against gross losses.
    /// </summary>
    public static void AssertAbsorbedWithin(Explanation e, double low, double high, string what)
    {
        AbsorbedAmounts(e, what);
        foreach (SeedDiagnostics d in e.Diagnostics)
        {
            double ratio = d.InputSum / d.SeedSum;
            Assert.IsTrue(ratio >= low && ratio <= high, $"{what}: {d.Seed} seed of class {d.Class}: ΣR_in/ΣR_out = {ratio:G6} outside [{low}, {high}]");
        }
    }

    /// <summary>ΣR_in/ΣR_out of the first target seed and the first dual seed (NaN when absent).</summary>
    public static (double Target, double Dual) Ratios(Explanation e)
    {
        SeedDiagnostics? t = e.Diagnostics.FirstOrDefault(d => d.Seed == "target");
        SeedDiagnostics? u = e.Diagnostics.FirstOrDefault(d => d.Seed == "dual");
        return (t is null ? double.NaN : t.InputSum / t.SeedSum, u is null ? double.NaN : u.InputSum / u.SeedSum);
    }

    /// <summary>
    /// Times <see cref="ClrpExplainer.Load"/> and one CLRP1 explanation (paper rules; the second call, after a warm-up
    /// call that also checks finiteness), and returns the figures with ΣR_in/ΣR_out of the timed explanation.
    /// </summary>
    public static (RealModelFigures Figures, Explanation Explanation) Measure(string name, string path, ExplainerOptions options, Tensor input, Target target)
    {
        (int nodes, string ops) = GraphSummary(path);
        var clock = Stopwatch.StartNew();
        using var explainer = ClrpExplainer.Load(path, options);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        AssertFinite(explainer.Explain(input, target), input, $"{name} (warm-up)");
        clock.Restart();
        Explanation e = explainer.Explain(input, target);
        double explainMs = clock.Elapsed.TotalMilliseconds;
        AssertFinite(e, input, name);
        (double tr, double dr) = Ratios(e);
        return (new RealModelFigures(name, nodes, ops, loadMs, explainMs, tr, dr), e);
    }

    /// <summary>Node count and sorted distinct op types of the file as written.</summary>
    public static (int Nodes, string OpTypes) GraphSummary(string path)
    {
        ModelProto model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        return (model.Graph.Node.Count, string.Join(' ', model.Graph.Node.Select(n => n.OpType).Distinct().Order(StringComparer.Ordinal)));
    }

    public static string Sha256(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The paper composite (z^B with <paramref name="bounds"/>, z⁺ elsewhere) for CLRP1.</summary>
    public static ExplainerOptions Paper(BoxBounds? bounds = null, string? output = null) =>
        new() { Method = ExplainMethod.Clrp1, Rules = CompositePresets.Paper(bounds), OutputName = output };

    /// <summary>Zennit's EpsilonPlus (z⁺ on Conv, ε on dense layers) for CLRP1.</summary>
    public static ExplainerOptions EpsilonPlus(string? output = null) =>
        new() { Method = ExplainMethod.Clrp1, Rules = CompositePresets.EpsilonPlus(), OutputName = output };

    public static Tensor NormalInput(int seed, params int[] shape) =>
        new(RandomData.Normal(new Random(seed), shape.Aggregate(1, (a, b) => a * b)), shape);

    public static string Describe(Explanation e) => string.Join("; ", e.Diagnostics.Select(d =>
        string.Create(CultureInfo.InvariantCulture, $"{d.Seed} {d.Class}: seed {d.SeedSum:G6}, input {d.InputSum:G6}, absorbed {d.SeedSum - d.InputSum:G4}")));

    private static float[] Softmax(Tensor logits)
    {
        int k = logits.RowLength;
        var p = new float[logits.Length];
        for (int r = 0; r < logits.Length / k; r++)
        {
            Span<float> row = logits.Data.AsSpan(r * k, k);
            double max = row.ToArray().Max(), sum = 0;
            for (int i = 0; i < k; i++)
            {
                sum += Math.Exp(row[i] - max);
            }

            for (int i = 0; i < k; i++)
            {
                p[(r * k) + i] = (float)(Math.Exp(row[i] - max) / sum);
            }
        }

        return p;
    }
}
