using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;

namespace Clrp.Onnx.Planning;

/// <summary>What an engine wants to hear during a walk: where a node starts and ends (profiles, memory reuse).</summary>
internal interface IWalkObserver
{
    /// <summary>The walk starts propagating <paramref name="node"/>.</summary>
    void Enter(Node node);

    /// <summary><paramref name="node"/> is done; <paramref name="pending"/> is the relevance still waiting for its producers.</summary>
    void Leave(Node node, IEnumerable<RelValue> pending);
}

/// <summary>
/// The backward walk, written once for both engines: seeds relevance at the logits and visits the plan's nodes in reverse
/// topological order, each propagator mapping its outputs' relevance to its inputs' through the algebra it is given
/// (computing for the managed engine, emitting for the compiler). Relevance reaching a value from several consumers is
/// summed. A value's relevance is dropped as soon as its producer has consumed it.
/// </summary>
internal static class RelevanceWalker
{
    /// <param name="plan">The model's plan.</param>
    /// <param name="alg">The interpreter.</param>
    /// <param name="context">Mode, rules and plan-time facts.</param>
    /// <param name="seeds">Relevance at the logits, rows of [K].</param>
    /// <param name="observer">Told where each node starts and ends; may be null.</param>
    /// <returns>Relevance at the graph input, rows of the input's per-image shape.</returns>
    public static RelValue Walk(ExplanationPlan plan, IRelevanceAlgebra alg, PlanContext context, RelValue seeds, IWalkObserver? observer = null)
    {
        var relevance = new Dictionary<string, RelValue>(StringComparer.Ordinal)
        {
            [plan.Logits] = alg.Reshape(seeds, alg.Activation(plan.Logits).RowShape),
        };

        for (int i = plan.WalkNodes.Count - 1; i >= 0; i--)
        {
            Node node = plan.WalkNodes[i];
            var outputs = new RelValue?[node.Outputs.Count];
            bool any = false;
            for (int o = 0; o < outputs.Length; o++)
            {
                if (relevance.Remove(node.Outputs[o], out RelValue? r))
                {
                    outputs[o] = r;
                    any = true;
                }
            }

            if (!any)
            {
                continue;
            }

            observer?.Enter(node);
            RelValue?[] inputs = plan.Propagators[node.Name].Propagate(outputs, alg, context);
            for (int k = 0; k < node.Inputs.Count && k < inputs.Length; k++)
            {
                string name = node.Inputs[k];
                if (inputs[k] is not RelValue contribution || !plan.DynamicValues.Contains(name))
                {
                    continue;
                }

                relevance[name] = relevance.TryGetValue(name, out RelValue? existing)
                    ? alg.Binary(BinaryOp.Add, existing, contribution)
                    : contribution;
            }

            observer?.Leave(node, relevance.Values);
        }

        return relevance.TryGetValue(plan.Input.Name, out RelValue? atInput)
            ? atInput
            : alg.Zeros(alg.Activation(plan.Input.Name).RowShape);
    }
}
