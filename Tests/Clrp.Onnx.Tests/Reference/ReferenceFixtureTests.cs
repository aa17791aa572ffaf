using System.Security.Cryptography;
using System.Text.Json;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Cli;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reference;

/// <summary>
/// The engine against an independent float64 PyTorch re-implementation of DESIGN.md §1
/// (scripts/reference/lrp_reference.py, autograd-based like Zennit), for every method × composite, two target classes,
/// raw target/dual relevance included, on two models and two images: the trained chain model fashion-vgg (test image 0;
/// also ε = 0.1 and γ = 1.0, so that a composite ignoring the user's values fails) and mixed-cnn (test image 1), whose
/// residual Add, folded BatchNorms, AveragePool and Concat the chain lacks. Each manifest holds its model's SHA-256.
/// </summary>
[TestClass]
public sealed class ReferenceFixtureTests
{
    // The issue asks for 1e-3; the engine reaches ~2e-6 (float32 vs float64), so a tighter bound catches regressions early.
    private const double Tolerance = 1e-4;

    private static readonly string[] Folders = ["reference", "reference-mixed"];

    public static IEnumerable<object[]> Fixtures()
    {
        foreach (string folder in Folders)
        {
            foreach (JsonElement f in Manifest(folder).GetProperty("fixtures").EnumerateArray())
            {
                if (f.GetProperty("kind").GetString() is "map" or "target" or "dual")
                {
                    yield return [folder, f.GetProperty("file").GetString()!];
                }
            }
        }
    }

    [TestMethod]
    public void Fixtures_BothModels_AllKindsAndNonDefaultValuesPresent()
    {
        List<object[]> all = Fixtures().ToList();
        // Per model and class: 6 LRP composites, CLRP1/CLRP2/SGLRP × 2 composites, CLRP1 logits, 4 raw target/dual,
        // 2 gradients = 19, two classes; fashion-vgg adds 6 maps at non-default ε/γ per class.
        Assert.AreEqual(50, all.Count(a => (string)a[0] == "reference"));
        Assert.AreEqual(38, all.Count(a => (string)a[0] == "reference-mixed"));
    }

    [TestMethod]
    [DataRow("reference")]
    [DataRow("reference-mixed")]
    public void Manifest_ModelSha256_MatchesTheCommittedModel(string folder)
    {
        JsonElement manifest = Manifest(folder);
        string model = ModelOf(folder);

        string actual = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model)));

        Assert.AreEqual(manifest.GetProperty("model_sha256").GetString(), actual, $"{model} changed since the fixtures were made: rerun scripts/reference/lrp_reference.py");
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures))]
    public void Explain_MatchesFloat64Reference(string folder, string file)
    {
        JsonElement f = Fixture(folder, file);
        using var explainer = ClrpExplainer.Load(ModelOf(folder), OptionsOf(f));
        Tensor input = NpyFile.Read(TestPaths.Fixture(folder, "input.npy"));
        Explanation e = explainer.Explain(input, f.GetProperty("target").GetInt32());
        Tensor expected = NpyFile.Read(TestPaths.Fixture(folder, file));
        Tensor actual = f.GetProperty("kind").GetString() switch
        {
            "target" => e.TargetRelevance!,
            "dual" => e.DualRelevance!,
            _ => e.Relevance,
        };
        // mixed-cnn's γ maps differ by 1.8e-4 (every other map ≤ 1e-4), with or without the capture run's denominators;
        // not traced further (suspected: γ denominators Σ a(w + γw⁺) of its untrained weights that nearly cancel in
        // float32). The issue asked for 1e-3.
        double tolerance = folder == "reference-mixed" && file.Contains("gamma", StringComparison.Ordinal) ? 1e-3 : Tolerance;
        Compare.Close(actual.Data, expected.Data, tolerance, $"{folder}/{file}");
    }

    [TestMethod]
    [DataRow("lrp-epsilon-c9-eps0.1.npy", "lrp-epsilon-c9.npy")]
    [DataRow("lrp-epsilon-gamma-box-c9-gamma1.npy", "lrp-epsilon-gamma-box-c9.npy")]
    [DataRow("lrp-epsilon-gamma-box-c7-eps0.1-gamma1.npy", "lrp-epsilon-gamma-box-c7.npy")]
    public void NonDefaultFixture_DiffersFromTheDefaultsFarBeyondTheTolerance(string variant, string defaults)
    {
        double difference = Compare.RelativeL2(NpyFile.Read(TestPaths.Fixture("reference", variant)).Data, NpyFile.Read(TestPaths.Fixture("reference", defaults)).Data);

        Assert.IsGreaterThan(100 * Tolerance, difference, $"{variant} vs {defaults}: the fixture must tell ε/γ apart");
    }

    [TestMethod]
    [DataRow("lrp-epsilon-c9-eps0.1.npy", "--rules", "epsilon", "--epsilon", "0.1")]
    [DataRow("lrp-epsilon-gamma-box-c9-gamma1.npy", "--rules", "epsilon-gamma-box", "--gamma", "1.0")]
    [DataRow("lrp-epsilon-gamma-box-c7-eps0.1-gamma1.npy", "--rules", "epsilon-gamma-box", "--epsilon", "0.1", "--gamma", "1")]
    public void Cli_NonDefaultEpsilonGamma_MatchesFloat64Reference(string file, params string[] rules)
    {
        JsonElement f = Fixture("reference", file);
        string dir = TestPaths.TempDir();
        string output = Path.Combine(dir, "r.npy");
        var bounds = new List<string>();
        if (f.GetProperty("low").ValueKind == JsonValueKind.Number)
        {
            bounds.AddRange(["--low", f.GetProperty("low").GetDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                "--high", f.GetProperty("high").GetDouble().ToString("R", System.Globalization.CultureInfo.InvariantCulture)]);
        }

        CliRun.Of(["explain", "--model", TestPaths.FashionVgg, "--input", TestPaths.Fixture("reference", "input.npy"), "--method", "lrp",
            "--target", f.GetProperty("target").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), "--out", output, .. rules, .. bounds]).AssertSuccess();

        Compare.Close(NpyFile.Read(output).Data, NpyFile.Read(TestPaths.Fixture("reference", file)).Data, Tolerance, file);
        Directory.Delete(dir, recursive: true);
    }

    [TestMethod]
    [DataRow("reference")]
    [DataRow("reference-mixed")]
    public void Explain_LogitsMatchReference(string folder)
    {
        using var explainer = ClrpExplainer.Load(ModelOf(folder), new ExplainerOptions { Method = ExplainMethod.Lrp });
        Tensor input = NpyFile.Read(TestPaths.Fixture(folder, "input.npy"));
        Explanation e = explainer.Explain(input);
        Tensor expected = NpyFile.Read(TestPaths.Fixture(folder, "logits.npy"));
        Compare.Close(e.Logits.Data, expected.Data, 1e-5, "logits");
        Assert.AreEqual(Manifest(folder).GetProperty("predicted").GetInt32(), e.TargetClass);
    }

    private static ExplainerOptions OptionsOf(JsonElement f)
    {
        string? rules = f.GetProperty("rules").GetString();
        BoxBounds? bounds = f.GetProperty("low").ValueKind == JsonValueKind.Number
            ? new BoxBounds([(float)f.GetProperty("low").GetDouble()], [(float)f.GetProperty("high").GetDouble()])
            : null;
        return new ExplainerOptions
        {
            Method = ExplainMethods.Parse(f.GetProperty("method").GetString()!),
            Rules = rules is null ? null : Composites.Composites.ByName(rules, bounds, Number(f, "epsilon", 1e-6), Number(f, "gamma", 0.25)),
            DualSeed = f.GetProperty("dual_seed").GetString() == "logits" ? DualSeed.PerClassLogit : DualSeed.Uniform,
        };
    }

    private static JsonElement Manifest(string folder) =>
        JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(folder, "manifest.json"))).RootElement;

    private static JsonElement Fixture(string folder, string file) =>
        Manifest(folder).GetProperty("fixtures").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);

    private static string ModelOf(string folder) => TestPaths.Model(Path.GetFileName(Manifest(folder).GetProperty("model").GetString()!));

    private static float Number(JsonElement e, string name, double fallback) =>
        (float)(e.GetProperty(name).ValueKind == JsonValueKind.Number ? e.GetProperty(name).GetDouble() : fallback);
}
