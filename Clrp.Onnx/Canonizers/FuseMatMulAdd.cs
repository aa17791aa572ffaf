using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Canonizers;

/// <summary>
/// Rewrites <c>Add(MatMul(A, B), c)</c> with constant B [in, out] and constant c ([out] or [1, out]) into
/// <c>Gemm(A, B, c)</c>, so the vector becomes the layer's bias (ε keeps it, z⁺ ignores it) instead of a
/// separate Add. The Add's output name is kept, so the forward values the walk reads stay the same.
/// </summary>
public static class FuseMatMulAdd
{
    public static OnnxGraph Apply(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var outputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var replaced = new Dictionary<string, Node>(StringComparer.Ordinal); // Add node name → Gemm
        var removed = new HashSet<string>(StringComparer.Ordinal);         // MatMul node names
        foreach (Node matmul in graph.Nodes.Where(n => n.OpType == "MatMul" && n.Domain.Length == 0))
        {
            string product = matmul.Outputs[0];
            if (!graph.Constants.TryGetValue(matmul.Input(1), out ConstantTensor? b) || b.Shape.Length != 2 || outputs.Contains(product))
            {
                continue;
            }

            IReadOnlyList<Node> consumers = graph.Consumers(product);
            if (consumers.Count != 1 || consumers[0].OpType != "Add" || consumers[0].Domain.Length != 0)
            {
                continue;
            }

            Node add = consumers[0];
            string other = add.Input(0) == product ? add.Input(1) : add.Input(0);
            if (!graph.Constants.TryGetValue(other, out ConstantTensor? c) || c.Length != b.Shape[1] || (c.Shape.Length == 2 && c.Shape[0] != 1) || c.Shape.Length > 2)
            {
                continue;
            }

            replaced[add.Name] = new Node(add.Name, "Gemm", string.Empty, add.Opset, [matmul.Input(0), matmul.Input(1), other], [add.Outputs[0]], matmul.Attributes);
            removed.Add(matmul.Name);
        }

        if (replaced.Count == 0)
        {
            return graph;
        }

        var nodes = graph.Nodes.Where(n => !removed.Contains(n.Name)).Select(n => replaced.TryGetValue(n.Name, out Node? g) ? g : n).ToList();
        return graph.WithNodes(nodes);
    }
}
