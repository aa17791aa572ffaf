using System.Text.Json;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Reference;

/// <summary>
/// The engine on the committed, trained fashion-vgg model against an independent float64 PyTorch
/// re-implementation of DESIGN.md §1 (scripts/reference/lrp_reference.py, autograd-based like Zennit),
/// for every method × composite, two target classes, raw target/dual relevance included.
/// </summary>
[TestClass]
public sealed class ReferenceFixtureTests
{
    // The issue asks for 1e-3; the engine reaches ~2e-6 (float32 vs float64), so a tighter bound catches regressions early.
    private const double Tolerance = 1e-4;

    public static IEnumerable<object[]> Fixtures()
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("reference", "manifest.json")));
        foreach (JsonElement f in manifest.RootElement.GetProperty("fixtures").EnumerateArray())
        {
            string kind = f.GetProperty("kind").GetString()!;
            if (kind is "map" or "target" or "dual")
            {
                yield return [f.GetProperty("file").GetString()!];
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Fixtures))]
    public void Explain_FashionVgg_MatchesFloat64Reference(string file)
    {
        using JsonDocument manifest = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("reference", "manifest.json")));
        JsonElement f = manifest.RootElement.GetProperty("fixtures").EnumerateArray().Single(e => e.GetProperty("file").GetString() == file);
        string method = f.GetProperty("method").GetString()!;
        string? rules = f.GetProperty("rules").GetString();
        int target = f.GetProperty("target").GetInt32();
        string kind = f.GetProperty("kind").GetString()!;
        BoxBounds? bounds = f.GetProperty("low").ValueKind == JsonValueKind.Number
            ? new BoxBounds([(float)f.GetProperty("low").GetDouble()], [(float)f.GetProperty("high").GetDouble()])
            : null;
        var options = new ExplainerOptions
        {
            Method = ExplainMethods.Parse(method),
            Rules = rules is null ? null : Composites.Composites.ByName(rules, bounds, Number(f, "epsilon", 1e-6), Number(f, "gamma", 0.25)),
            DualSeed = f.GetProperty("dual_seed").GetString() == "logits" ? DualSeed.PerClassLogit : DualSeed.Uniform,
        };

        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, options);
        Tensor input = NpyFile.Read(TestPaths.Fixture("reference", "input.npy"));
        Explanation e = explainer.Explain(input, target);
        Tensor expected = NpyFile.Read(TestPaths.Fixture("reference", file));
        Tensor actual = kind switch
        {
            "target" => e.TargetRelevance!,
            "dual" => e.DualRelevance!,
            _ => e.Relevance,
        };
        Compare.Close(actual.Data, expected.Data, Tolerance, file);
    }

    private static float Number(JsonElement e, string name, double fallback) =>
        (float)(e.GetProperty(name).ValueKind == JsonValueKind.Number ? e.GetProperty(name).GetDouble() : fallback);

    [TestMethod]
    public void Explain_FashionVgg_LogitsMatchReference()
    {
        using var explainer = ClrpExplainer.Load(TestPaths.FashionVgg, new ExplainerOptions { Method = ExplainMethod.Lrp });
        Tensor input = NpyFile.Read(TestPaths.Fixture("reference", "input.npy"));
        Explanation e = explainer.Explain(input);
        Tensor expected = NpyFile.Read(TestPaths.Fixture("reference", "logits.npy"));
        Compare.Close(e.Logits.Data, expected.Data, 1e-5, "logits");
        Assert.AreEqual(9, e.TargetClass);
    }
}
