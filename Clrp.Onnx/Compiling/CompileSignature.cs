using System.Globalization;
using System.Text;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Rules;

namespace Clrp.Onnx.Compiling;

/// <summary>
/// Everything a compiled graph is fixed to, as text (a <see cref="GraphCache"/> key): method, dual seed, explained output,
/// the rule of every linear layer as the engine reads it (each part's coefficient, terms, bias, stabiliser; z^B bounds),
/// the Norm stabiliser and the bounds option. Custom rules are described by their parts, like the built-in ones.
/// </summary>
internal static class CompileSignature
{
    public static string Of(ExplanationPlan plan, ExplainMethod method, DualSeed dualSeed, Composite composite, BoxBounds? bounds)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"method={method.ToName()};dual={dualSeed};output={plan.Logits};norm={composite.Norm.Stabilizer:R};residual={composite.Residual};bounds={Describe(bounds)}\n");
        if (!method.IsGradient())
        {
            foreach ((string node, LinearRule rule) in plan.Rules.OrderBy(r => r.Key, StringComparer.Ordinal))
            {
                text.Append(node).Append('=').Append(rule.Name);
                foreach (RulePart part in rule.Parts)
                {
                    text.Append(CultureInfo.InvariantCulture, $"[{part.Coefficient:R},{part.IncludeBias},{part.Stabilizer:R}:{string.Join(',', part.Terms.Select(t => $"{t.Input}*{t.Weight.Key}"))}]");
                }

                text.Append(rule is ZBoxRule box ? Describe(box.Bounds) : string.Empty).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Describe(BoxBounds? b) => b is null ? "data" : string.Join(',', b.Low.Concat(b.High).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
