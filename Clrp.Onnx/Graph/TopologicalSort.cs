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

        // Kahn's algorithm with the ready nodes in a heap keyed by their position in the file: linear-logarithmic (repeated
        // passes over the pending list were quadratic on graphs stored in reverse order), and among independent nodes the
        // file's order wins, which makes messages and traces follow the file.
        var missing = new int[nodes.Count];
        var waiting = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var heap = new PriorityQueue<int, int>();
        for (int k = 0; k < nodes.Count; k++)
        {
            foreach (string input in nodes[k].Inputs.Where(i => i.Length > 0 && !ready.Contains(i)).Distinct(StringComparer.Ordinal))
            {
                missing[k]++;
                if (!waiting.TryGetValue(input, out List<int>? list))
                {
                    waiting[input] = list = [];
                }

                list.Add(k);
            }

            if (missing[k] == 0)
            {
                heap.Enqueue(k, k);
            }
        }

        var sorted = new List<Node>(nodes.Count);
        while (heap.TryDequeue(out int k, out _))
        {
            sorted.Add(nodes[k]);
            foreach (string output in nodes[k].Outputs.Where(o => o.Length > 0))
            {
                if (ready.Add(output) && waiting.TryGetValue(output, out List<int>? consumers))
                {
                    foreach (int c in consumers)
                    {
                        if (--missing[c] == 0)
                        {
                            heap.Enqueue(c, c);
                        }
                    }
                }
            }
        }

        if (sorted.Count < nodes.Count)
        {
            var placed = sorted.ToHashSet();
            string names = string.Join(", ", nodes.Where(n => !placed.Contains(n)).Take(5).Select(n => $"'{n.Name}'"));
            throw new InvalidGraphException($"{source}: the graph has a cycle through nodes {names}.");
        }

        return sorted;
    }
}
