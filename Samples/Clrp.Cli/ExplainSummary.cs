using System.Globalization;
using Clrp.Onnx.Explaining;

namespace Clrp.Cli;

/// <summary>
/// The human summary of <c>clrp explain</c> on stdout: model, input, provider, method and rules, then per
/// explained class its logit and, for relevance methods, the conservation check ΣR_in against the seed sum.
/// </summary>
internal static class ExplainSummary
{
    public static void Print(TextWriter o, ExplainRequest request, ClrpExplainer explainer, LoadedInput input, Explanation e, IReadOnlyList<string> written)
    {
        o.WriteLine($"model:     {request.ModelPath} (input '{explainer.Input.Name}' {explainer.Input.ShapeText}, logits '{explainer.LogitsName}')");
        o.WriteLine($"input:     {input.Description}");
        o.WriteLine($"provider:  {e.ExecutionProvider} ({e.Engine} engine)");
        o.WriteLine($"method:    {e.Method.ToName()}, rules {e.Rules}{RulesDetail(request, explainer, e)}");
        bool gradient = e.Method.IsGradient();
        int images = e.Relevance.Shape[0];
        for (int img = 0; img < images; img++)
        {
            for (int i = 0; i < e.TargetsPerImage; i++)
            {
                int cls = e.TargetClassOf(img, i);
                string prefix = images > 1 ? $"image {img}, class {cls}" : $"class {cls}";
                string line = Invariant($"{prefix,-10} logit {e.Logits.Row(img)[cls],9:0.0000}");
                if (!gradient)
                {
                    line += "   " + string.Join("; ", e.Diagnostics.Where(d => d.Image == img && d.Class == cls).Select(Conservation));
                }

                o.WriteLine((img == 0 && i == 0 ? "explained: " : "           ") + line);
            }
        }

        foreach (string file in written)
        {
            o.WriteLine($"wrote:     {file}");
        }
    }

    private static string RulesDetail(ExplainRequest request, ClrpExplainer explainer, Explanation e)
    {
        var parts = new List<string>();
        if (!e.Method.IsGradient() && explainer.Nodes.Any(n => n.Role.StartsWith("rule zbox", StringComparison.Ordinal)))
        {
            parts.Add(request.Bounds is null ? $"z^B bounds from {request.BoundsSource}" : $"z^B bounds {request.Bounds} from {request.BoundsSource}");
        }

        if (e.Method == ExplainMethod.Clrp1)
        {
            parts.Add($"dual seed {(request.DualSeed == DualSeed.Uniform ? "uniform" : "logits")}");
        }

        return parts.Count == 0 ? string.Empty : " (" + string.Join("; ", parts) + ")";
    }

    private static string Conservation(SeedDiagnostics d) => Invariant($"{d.Seed} ΣR_in {d.InputSum:0.0000} / seed {d.SeedSum:0.0000}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
