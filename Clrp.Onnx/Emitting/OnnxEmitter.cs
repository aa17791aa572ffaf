using System.Globalization;
using System.Runtime.InteropServices;
using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Emitting;

/// <summary>
/// Appends ONNX nodes and initializers to a graph under construction, for one default-domain opset: the opset of the
/// model being extended, since a model imports one version per domain and the original nodes must keep theirs. Every
/// helper writes the form that opset defines (ReduceSum's axes as an attribute before opset 13 and as an input from 13,
/// Slice/Pad/TopK likewise, Where from opset 9 with an arithmetic fallback before), so one emitter serves models exported
/// at opsets 7 to 22. Names are unique: each starts with <see cref="Prefix"/> and never collides with a value of the
/// model (the names reserved at construction).
/// </summary>
internal sealed partial class OnnxEmitter
{
    /// <summary>The oldest default-domain opset the emitter writes valid nodes for (broadcasting Add/Mul/Greater/Less from 7).</summary>
    public const long MinimumOpset = 7;

    private readonly HashSet<string> _reserved;
    private readonly Dictionary<string, string> _constantsByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _derived = new(StringComparer.Ordinal);
    private int _counter;

    /// <param name="opset">The default-domain opset of the graph the nodes join.</param>
    /// <param name="reservedNames">Value names already in the graph.</param>
    /// <param name="prefix">Start of every emitted name.</param>
    public OnnxEmitter(long opset, IEnumerable<string> reservedNames, string prefix = "clrp/")
    {
        if (opset < MinimumOpset)
        {
            throw new NotSupportedException($"opset {opset} is older than {MinimumOpset}, the oldest the explainer graph is written for");
        }

        Opset = opset;
        Prefix = prefix;
        _reserved = new HashSet<string>(reservedNames, StringComparer.Ordinal);
    }

    /// <summary>The default-domain opset nodes are written for.</summary>
    public long Opset { get; }

    /// <summary>The start of every emitted name.</summary>
    public string Prefix { get; }

    /// <summary>The nodes emitted so far, in emission order (which is a topological order).</summary>
    public List<NodeProto> Nodes { get; } = [];

    /// <summary>The initializers emitted so far.</summary>
    public List<TensorProto> Initializers { get; } = [];

    /// <summary>Total bytes of emitted initializers.</summary>
    public long InitializerBytes { get; private set; }

    /// <summary>A fresh value name starting with <see cref="Prefix"/> and <paramref name="hint"/>.</summary>
    public string Fresh(string hint)
    {
        string name;
        do
        {
            name = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{hint}/{_counter++}");
        }
        while (!_reserved.Add(name));

        return name;
    }

    /// <summary>Emits <paramref name="op"/> with one output; returns the output's name.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        Node(op, inputs, 1, attributes)[0];

    /// <summary>Emits <paramref name="op"/> with <paramref name="outputs"/> outputs; returns their names.</summary>
    public string[] Node(string op, IReadOnlyList<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        string hint = op.ToLowerInvariant();
        var node = new NodeProto { OpType = op, Name = Fresh(hint + "_node") };
        node.Input.AddRange(inputs);
        var names = new string[outputs];
        for (int i = 0; i < outputs; i++)
        {
            names[i] = Fresh(hint);
            node.Output.Add(names[i]);
        }

        node.Attribute.AddRange(attributes);
        Nodes.Add(node);
        return names;
    }

    /// <summary>
    /// The value <paramref name="create"/> emits, emitted once per <paramref name="key"/> and reused after (a weight tensor's
    /// transform needed by several nodes).
    /// </summary>
    public string Once(string key, Func<string> create)
    {
        if (!_derived.TryGetValue(key, out string? name))
        {
            _derived[key] = name = create();
        }

        return name;
    }

    /// <summary>A float32 initializer; identical small constants are shared.</summary>
    public string Floats(ReadOnlySpan<float> values, IReadOnlyList<int> shape, string hint = "const")
    {
        string? key = values.Length <= 16 ? "f" + Shape(shape) + string.Join(',', values.ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) : null;
        if (key is not null && _constantsByKey.TryGetValue(key, out string? existing))
        {
            return existing;
        }

        var t = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(shape.Select(d => (long)d));
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        Add(t, values.Length * sizeof(float));
        if (key is not null)
        {
            _constantsByKey[key] = t.Name;
        }

        return t.Name;
    }

    /// <summary>An int64 initializer; identical small constants are shared.</summary>
    public string Longs(ReadOnlySpan<long> values, IReadOnlyList<int> shape, string hint = "index")
    {
        string? key = values.Length <= 16 ? "i" + Shape(shape) + string.Join(',', values.ToArray()) : null;
        if (key is not null && _constantsByKey.TryGetValue(key, out string? existing))
        {
            return existing;
        }

        var t = new TensorProto { Name = Fresh(hint), DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.AddRange(shape.Select(d => (long)d));
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values));
        Add(t, values.Length * sizeof(long));
        if (key is not null)
        {
            _constantsByKey[key] = t.Name;
        }

        return t.Name;
    }

    /// <summary>A float32 scalar (shape []).</summary>
    public string Scalar(float value) => Floats([value], []);

    /// <summary>A float32 constant of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public string Filled(float value, IReadOnlyList<int> shape, string hint = "fill")
    {
        int count = shape.Aggregate(1, (a, b) => a * b);
        var values = new float[count];
        Array.Fill(values, value);
        return Floats(values, shape, hint);
    }

    /// <summary>An int64 vector (for shapes, axes, indices).</summary>
    public string Vector(params long[] values) => Longs(values, [values.Length], "shape");

    private void Add(TensorProto t, long bytes)
    {
        Initializers.Add(t);
        InitializerBytes += bytes;
    }

    private static string Shape(IReadOnlyList<int> shape) => "[" + string.Join(',', shape) + "]";

    /// <summary>An INT attribute.</summary>
    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A FLOAT attribute.</summary>
    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>An INTS attribute.</summary>
    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    /// <summary>An INTS attribute from ints.</summary>
    public static AttributeProto Ints(string name, params int[] values) => Ints(name, Array.ConvertAll(values, v => (long)v));
}
