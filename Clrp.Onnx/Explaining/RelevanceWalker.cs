using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// The backward walk: seeds relevance at the logits and visits the plan's nodes in reverse topological
/// order, each propagator mapping its outputs' relevance to its inputs'. Relevance reaching a value from
/// several consumers is summed. A value's relevance is released as soon as its producer has consumed it, and its
/// buffer goes back to the context's pool unless a tensor still held by the walk shares it (pass-through operators
/// hand their output relevance on as it is or reshaped).
/// </summary>
internal static class RelevanceWalker
{
    /// <param name="plan">The model's plan.</param>
    /// <param name="context">Activations, row→image map, mode and rules.</param>
    /// <param name="seeds">Relevance at the logits, [rows, K].</param>
    /// <returns>Relevance at the graph input, [rows, …input shape].</returns>
    public static Tensor Walk(ExplanationPlan plan, PropagationContext context, Tensor seeds)
    {
        var relevance = new Dictionary<string, Tensor>(StringComparer.Ordinal)
        {
            [plan.Logits] = context.ShapedLike(seeds, plan.Logits),
        };

        for (int i = plan.WalkNodes.Count - 1; i >= 0; i--)
        {
            Node node = plan.WalkNodes[i];
            var outputs = new Tensor?[node.Outputs.Count];
            bool any = false;
            for (int o = 0; o < outputs.Length; o++)
            {
                if (relevance.Remove(node.Outputs[o], out Tensor? r))
                {
                    outputs[o] = r;
                    any = true;
                }
            }

            if (!any)
            {
                continue;
            }

            context.Profiler?.Enter(node.Name, node.OpType);
            Tensor?[] inputs = plan.Propagators[node.Name].Propagate(outputs, context);
            context.Profiler?.Leave();
            var spent = new List<Tensor>(outputs.Length + inputs.Length);
            spent.AddRange(outputs.OfType<Tensor>());
            for (int k = 0; k < node.Inputs.Count && k < inputs.Length; k++)
            {
                string name = node.Inputs[k];
                if (inputs[k] is not Tensor contribution || !plan.DynamicValues.Contains(name))
                {
                    continue;
                }

                if (relevance.TryGetValue(name, out Tensor? existing))
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(existing.Data, contribution.Data, existing.Data);
                    spent.Add(contribution);
                }
                else
                {
                    // Own the buffer: a propagator may hand back its output relevance unchanged (pass-through ops).
                    // The copy comes from the pool like every other relevance buffer: 15 fresh ReLU copies per VGG16
                    // explanation (up to 12.8 MB each) were what let the heap grow and fault in new pages.
                    relevance[name] = ReferenceEquals(contribution.Data, outputs.FirstOrDefault(t => t is not null)?.Data) ? Copy(contribution, context) : contribution;
                }
            }

            Recycle(spent, relevance, context.Pool);
        }

        return relevance.TryGetValue(plan.Input.Name, out Tensor? atInput)
            ? atInput
            : context.ZerosLike(plan.Input.Name);
    }

    private static Tensor Copy(Tensor t, PropagationContext context)
    {
        Tensor copy = context.Pool?.Rent(t.Shape, clear: false) ?? new Tensor(t.Shape);
        t.Data.CopyTo(copy.Data, 0);
        return copy;
    }

    /// <summary>Returns the buffers of <paramref name="spent"/> that no pending relevance shares (each buffer once).</summary>
    private static void Recycle(List<Tensor> spent, Dictionary<string, Tensor> pending, BufferPool? pool)
    {
        if (pool is null || spent.Count == 0)
        {
            return;
        }

        var held = new HashSet<float[]>(pending.Values.Select(t => t.Data), ReferenceEqualityComparer.Instance);
        foreach (Tensor t in spent)
        {
            if (held.Add(t.Data))
            {
                pool.Return(t);
            }
        }
    }
}
