using Clrp.Onnx.Graph;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Maps (domain, op type, opset) to a propagator factory. Each operator family file registers its
/// handlers with the opset range they were verified on; a miss names the node, op, domain, opset, why
/// (<see cref="UnsupportedOps"/>) and the nearest supported alternative.
/// </summary>
internal sealed class OperatorRegistry
{
    private readonly Dictionary<(string Domain, string Op), List<(long Min, long Max, Func<Node, OnnxGraph, IOperatorPropagator> Create)>> _entries = [];

    /// <summary>The registry with every family of this library.</summary>
    public static OperatorRegistry Default { get; } = CreateDefault();

    public void Register(string opType, long minOpset, long maxOpset, Func<Node, OnnxGraph, IOperatorPropagator> create, string domain = "")
    {
        if (!_entries.TryGetValue((domain, opType), out var list))
        {
            _entries[(domain, opType)] = list = [];
        }

        list.Add((minOpset, maxOpset, create));
    }

    /// <summary>Whether an op type is known at all (for `clrp info`).</summary>
    public bool Knows(string domain, string opType) => _entries.ContainsKey((domain, opType));

    /// <summary>Creates the propagator for <paramref name="node"/>, validating its attributes and constant inputs.</summary>
    public IOperatorPropagator Create(Node node, OnnxGraph graph)
    {
        if (!_entries.TryGetValue((node.Domain, node.OpType), out var list))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, UnsupportedOps.Explain(node, SupportedOps().ToList()));
        }

        foreach ((long min, long max, var create) in list)
        {
            if (node.Opset >= min && node.Opset <= max)
            {
                return create(node, graph);
            }
        }

        throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset,
            $"verified opsets are {string.Join(", ", list.Select(e => $"{e.Min}–{e.Max}"))}.");
    }

    /// <summary>Supported op types, sorted.</summary>
    public IEnumerable<string> SupportedOps() =>
        _entries.Keys.Where(k => k.Domain != Canonizers.L2NormalizeOp.Domain).Select(k => k.Domain.Length == 0 ? k.Op : $"{k.Domain}::{k.Op}").Order(StringComparer.Ordinal);

    /// <summary>Supported ops with their opset ranges, for documentation and `clrp info`.</summary>
    public IEnumerable<(string Op, long Min, long Max)> Describe() =>
        _entries.SelectMany(kv => kv.Value.Select(e => (kv.Key.Op, e.Min, e.Max))).OrderBy(e => e.Op, StringComparer.Ordinal);

    private static OperatorRegistry CreateDefault()
    {
        var registry = new OperatorRegistry();
        LinearOps.Register(registry);
        ActivationOps.Register(registry);
        PoolOps.Register(registry);
        ShapeOps.Register(registry);
        ElementwiseOps.Register(registry);
        LrnOps.Register(registry);
        NormalizationOps.Register(registry);
        ArithmeticOps.Register(registry);
        RoutingOps.Register(registry);
        ConcatSplitOps.Register(registry);
        ReduceOps.Register(registry);
        ResizeOps.Register(registry);
        ConvTransposeOps.Register(registry);
        ContractionOps.Register(registry);
        return registry;
    }
}
