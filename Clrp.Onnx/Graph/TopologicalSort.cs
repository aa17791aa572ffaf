namespace Clrp.Onnx.Graph;

/// <summary>Kahn's algorithm over node inputs, rejecting dangling inputs and cycles with the nodes named.</summary>
internal static class TopologicalSort
{
    /// <summary>Orders <paramref name="nodes"/> so that every node comes after the producers of its inputs.</summary>
    /// <param name="nodes">The nodes, in any order (ties keep this order).</param>
    /// <param name="available">Values present before any node runs: graph inputs and constants.</param>
    /// <param name="source">The model's name, for messages.</param>
    public static IReadOnlyList<Node> Sort(IReadOnlyList<Node> nodes, IEnumerable<string> available, string source)
    {
        var producedBy = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (Node node in nodes)
        {
            foreach (string output in node.Outputs.Where(o => o.Length > 0))
            {
                if (!producedBy.TryAdd(output, node))
                {
                    throw new InvalidGraphException($"{source}: value '{output}' is produced twice, by nodes '{producedBy[output].Name}' and '{node.Name}'.");
                }
            }
        }

        var ready = new HashSet<string>(available, StringComparer.Ordinal);
        foreach (Node node in nodes)
        {
            foreach (string input in node.Inputs.Where(i => i.Length > 0))
            {
                if (!ready.Contains(input) && !producedBy.ContainsKey(input))
                {
                    throw new InvalidGraphException($"{source}: node '{node.Name}' ({node.OpType}) reads '{input}', which no node, initializer or graph input provides.");
                }
            }
        }

        // Repeated passes keep the file's order among independent nodes, which makes messages and
        // traces follow the file; graphs are small enough (≤ thousands of nodes) for this to be cheap.
        var sorted = new List<Node>(nodes.Count);
        var pending = new List<Node>(nodes);
        while (pending.Count > 0)
        {
            var stillPending = new List<Node>();
            foreach (Node node in pending)
            {
                if (node.Inputs.All(i => i.Length == 0 || ready.Contains(i)))
                {
                    sorted.Add(node);
                    foreach (string output in node.Outputs.Where(o => o.Length > 0))
                    {
                        ready.Add(output);
                    }
                }
                else
                {
                    stillPending.Add(node);
                }
            }

            if (stillPending.Count == pending.Count)
            {
                string names = string.Join(", ", stillPending.Take(5).Select(n => $"'{n.Name}'"));
                throw new InvalidGraphException($"{source}: the graph has a cycle through nodes {names}.");
            }

            pending = stillPending;
        }

        return sorted;
    }
}
