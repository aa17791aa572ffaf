using Clrp.Onnx.Proto;

namespace Clrp.Onnx.Graph;

/// <summary>
/// An ONNX model read into immutable, validated form: nodes in topological order with unique names,
/// the producer and consumers of every value, constants (initializers and Constant nodes) decoded,
/// the opset of each domain. Canonizers derive new graphs with <see cref="WithNodes"/>; the original
/// protobuf stays attached so the runtime can execute the model exactly as written.
/// </summary>
public sealed class OnnxGraph
{
    private readonly Dictionary<string, Node> _producer;
    private ModelProto? _model;
    private readonly Dictionary<string, List<Node>> _consumers;

    internal OnnxGraph(
        string source,
        ModelProto model,
        IReadOnlyList<Node> nodesInTopologicalOrder,
        IReadOnlyList<ValueInfo> inputs,
        IReadOnlyList<ValueInfo> outputs,
        IReadOnlyDictionary<string, ConstantTensor> constants,
        IReadOnlyDictionary<string, long> opsets)
    {
        Source = source;
        _model = model;
        Nodes = nodesInTopologicalOrder;
        Inputs = inputs;
        Outputs = outputs;
        Constants = constants;
        Opsets = opsets;
        _producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        _consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (Node node in nodesInTopologicalOrder)
        {
            foreach (string output in node.Outputs)
            {
                if (output.Length > 0)
                {
                    _producer[output] = node;
                }
            }

            foreach (string input in node.Inputs)
            {
                if (input.Length == 0)
                {
                    continue;
                }

                if (!_consumers.TryGetValue(input, out List<Node>? list))
                {
                    _consumers[input] = list = [];
                }

                if (!list.Contains(node))
                {
                    list.Add(node);
                }
            }
        }
    }

    /// <summary>Where the model came from (a file path), for messages.</summary>
    public string Source { get; }

    /// <summary>The protobuf the graph was read from (unchanged by canonizers).</summary>
    internal ModelProto Model => _model ?? throw new InvalidOperationException($"{Source}: the protobuf was released after the runtime session was built.");

    /// <summary>
    /// Drops this graph's reference to the protobuf once the runtime session exists: for large models its raw weight
    /// bytes are a full copy of the file (553 MB for VGG16) that nothing reads afterwards.
    /// </summary>
    internal void ReleaseModel() => _model = null;

    /// <summary>Nodes in topological order.</summary>
    public IReadOnlyList<Node> Nodes { get; }

    /// <summary>Graph inputs that are not initializers (the tensors a caller feeds).</summary>
    public IReadOnlyList<ValueInfo> Inputs { get; }

    /// <summary>Graph outputs as declared.</summary>
    public IReadOnlyList<ValueInfo> Outputs { get; }

    /// <summary>Values known without running the model, by name.</summary>
    public IReadOnlyDictionary<string, ConstantTensor> Constants { get; }

    /// <summary>Imported opset version per domain ("" = ai.onnx).</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; }

    /// <summary>The node that computes <paramref name="value"/>, or null for inputs and initializers.</summary>
    public Node? Producer(string value) => _producer.GetValueOrDefault(value);

    /// <summary>Nodes that read <paramref name="value"/>, in topological order.</summary>
    public IReadOnlyList<Node> Consumers(string value) =>
        _consumers.TryGetValue(value, out List<Node>? list) ? list : [];

    /// <summary>True when <paramref name="value"/> is an initializer or a Constant node's output.</summary>
    public bool IsConstant(string value) => Constants.ContainsKey(value);

    /// <summary>The constant named <paramref name="value"/>, or an <see cref="InvalidGraphException"/> naming the node that needs it.</summary>
    public ConstantTensor RequireConstant(string value, Node forNode, string role)
    {
        if (Constants.TryGetValue(value, out ConstantTensor? c))
        {
            return c;
        }

        throw new UnsupportedOperatorException(forNode.Name, forNode.OpType, forNode.Domain, forNode.Opset,
            $"its {role} '{value}' must be a constant (initializer or Constant node), but it is computed from the input: from the input's values, or from input axes the model leaves open (shape arithmetic over fixed axes is folded; export with a fixed input size)");
    }

    /// <summary>
    /// A graph with the same source, inputs, outputs and protobuf but other nodes and extra constants:
    /// how canonizers express rewrites without mutating this graph.
    /// </summary>
    public OnnxGraph WithNodes(IReadOnlyList<Node> nodes, IReadOnlyDictionary<string, ConstantTensor>? extraConstants = null)
    {
        var constants = new Dictionary<string, ConstantTensor>(Constants, StringComparer.Ordinal);
        if (extraConstants is not null)
        {
            foreach (var kv in extraConstants)
            {
                constants[kv.Key] = kv.Value;
            }
        }

        IReadOnlyList<Node> sorted = TopologicalSort.Sort(nodes, Inputs.Select(i => i.Name).Concat(constants.Keys), Source);
        return new OnnxGraph(Source, Model, sorted, Inputs, Outputs, constants, Opsets);
    }
}
