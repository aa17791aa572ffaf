using Clrp.Onnx.Planning;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>The checks both engines make on what the forward pass produced and on the requested targets.</summary>
internal static class ExplainerChecks
{
    /// <summary>The number of classes K; throws when the explained output is not [N, K] (or [N, K, 1, 1]) or not finite.</summary>
    public static int ValidateLogits(ExplanationPlan plan, Tensor logits, int n)
    {
        bool classifier = logits.Rank >= 1 && logits.Shape[0] == n && logits.Shape.Skip(2).All(d => d == 1);
        if (!classifier)
        {
            throw new InvalidGraphException($"{plan.Graph.Source}: the explained output '{plan.Logits}' has shape {logits.ShapeText}; expected class scores [N,K] (or [N,K,1,1]). Use --output to name another tensor.");
        }

        if (!logits.AllFinite())
        {
            throw new InvalidGraphException($"{plan.Graph.Source}: the model produced NaN/Inf logits in '{plan.Logits}' for this input.");
        }

        return logits.RowLength;
    }

    /// <summary>The k classes of every image (image-major), validated against [0, K).</summary>
    public static int[] ResolveTargets(Target target, Tensor logits2d, int n)
    {
        int k = target.Count;
        var targets = new int[n * k];
        for (int img = 0; img < n; img++)
        {
            target.Resolve(img, logits2d.Row(img)).CopyTo(targets, img * k);
        }

        return targets;
    }
}
