using System.Collections.Concurrent;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The backward step shared by every linear node: the plain gradient <c>Wᵀg</c> in gradient mode, else
/// the node's rule through <see cref="LinearRuleEngine"/>. For CLRP2 the rows of the dual seeds see the
/// logit layer with the target unit's weights and bias negated (<see cref="LinearLayer.WithNegatedRow"/>).
/// </summary>
internal static class LinearPropagation
{
    public static Tensor Backward(Node node, ILinearKernel kernel, LinearLayer layer, ConcurrentDictionary<int, LinearLayer> negatedCache, Tensor input, Tensor relevance, PropagationContext context)
    {
        if (context.Mode == PropagationMode.Gradient)
        {
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            Tensor gradient = kernel.InputGradient(relevance, layer.Weights, context.Pool);
            context.Profiler?.Add("transposed", started);
            return gradient;
        }

        LinearRule rule = context.RuleFor(node);
        IReadOnlyList<BoxBounds>? bounds = rule is ZBoxRule box ? (box.Bounds is { } explicitBounds ? [explicitBounds] : context.DefaultBounds) : null;
        int[]? negated = context.NegatedLayer == node.Name ? context.NegatedUnit : null;
        if (negated is null || negated.All(u => u < 0))
        {
            Tensor?[]? denominators = context.Denominators?.GetValueOrDefault(node.Name) is { } names
                ? Array.ConvertAll(names, n => n is null ? null : context.Activation(n))
                : null;
            return LinearRuleEngine.Propagate(rule, kernel, layer, input, relevance, context.RowImage, bounds, context.Profiler, context.Pool, denominators);
        }

        var result = new Tensor([relevance.Shape[0], .. kernel.InputShape]);
        int inLength = result.RowLength, outLength = relevance.RowLength;
        foreach (IGrouping<int, int> group in Enumerable.Range(0, relevance.Shape[0]).GroupBy(r => negated[r]))
        {
            int[] rows = group.ToArray();
            LinearLayer variant = group.Key < 0 ? layer : negatedCache.GetOrAdd(group.Key, layer.WithNegatedRow);
            var sub = new Tensor([rows.Length, .. relevance.Shape[1..]]);
            for (int i = 0; i < rows.Length; i++)
            {
                relevance.Data.AsSpan(rows[i] * outLength, outLength).CopyTo(sub.Data.AsSpan(i * outLength, outLength));
            }

            Tensor subResult = LinearRuleEngine.Propagate(rule, kernel, variant, input, sub, rows.Select(r => context.RowImage[r]).ToArray(), bounds, context.Profiler, context.Pool);
            for (int i = 0; i < rows.Length; i++)
            {
                subResult.Data.AsSpan(i * inLength, inLength).CopyTo(result.Data.AsSpan(rows[i] * inLength, inLength));
            }
        }

        return result;
    }
}
