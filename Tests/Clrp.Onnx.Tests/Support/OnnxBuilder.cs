using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Tests.Support;

/// <summary>
/// Builds small ONNX models in code for one-node operator tests and tiny nets:
/// <code>
/// byte[] model = new OnnxBuilder(opset: 17)
///     .Input("x", 1, 3, 8, 8)                          // or .Input("x", "N", 3, 8, 8) for a symbolic batch
///     .Initializer("w", weights, 4, 3, 3, 3)
///     .Node("Conv", ["x", "w"], ["y"], OnnxBuilder.Ints("pads", 1, 1, 1, 1))
///     .Output("y")
///     .ToBytes();
/// </code>
/// Dimensions are given as <c>long</c> (fixed) or <c>string</c> (symbolic). Float initializers are stored in
/// raw_data by default and in float_data with <c>raw: false</c>; likewise int64 initializers.
/// </summary>
internal sealed class OnnxBuilder
{
    private readonly GraphProto _graph = new() { Name = "test" };
    private readonly long _opset;
    private readonly long _irVersion;
    private bool _initializersAsInputs;

    /// <param name="opset">The ai.onnx opset imported.</param>
    /// <param name="irVersion">The IR version; defaults to 8 (7 below opset 13, 3 below opset 8).</param>
    public OnnxBuilder(long opset = 17, long? irVersion = null)
    {
        _opset = opset;
        _irVersion = irVersion ?? (opset >= 13 ? 8 : opset >= 8 ? 7 : 3);
    }

    /// <summary>The element type FLOAT.</summary>
    public const int Float = (int)TensorProto.Types.DataType.Float;

    /// <summary>The element type INT64.</summary>
    public const int Int64 = (int)TensorProto.Types.DataType.Int64;

    /// <summary>A graph input of float32 with dimensions (long = fixed, string = symbolic).</summary>
    public OnnxBuilder Input(string name, params object[] dims) => TypedInput(name, Float, dims);

    /// <summary>A graph input of any element type.</summary>
    public OnnxBuilder TypedInput(string name, int elementType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elementType, dims));
        return this;
    }

    /// <summary>A graph output; its shape is left to inference unless dims are given.</summary>
    public OnnxBuilder Output(string name, int elementType = Float, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, elementType, dims.Length == 0 ? null : dims));
        return this;
    }

    /// <summary>A float initializer (raw_data, or float_data when <paramref name="raw"/> is false).</summary>
    public OnnxBuilder Initializer(string name, float[] values, long[] dims, bool raw = true)
    {
        _graph.Initializer.Add(FloatTensor(name, values, dims, raw));
        return this;
    }

    /// <summary>An int64 initializer (raw_data, or int64_data when <paramref name="raw"/> is false).</summary>
    public OnnxBuilder Int64Initializer(string name, long[] values, long[] dims, bool raw = true)
    {
        _graph.Initializer.Add(Int64Tensor(name, values, dims, raw));
        return this;
    }

    /// <summary>A Constant node holding a float tensor in its <c>value</c> attribute.</summary>
    public OnnxBuilder Constant(string output, float[] values, long[] dims, string? name = null) =>
        Node("Constant", [], [output], name, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = FloatTensor(string.Empty, values, dims, raw: true) });

    /// <summary>A Constant node holding an int64 tensor in its <c>value</c> attribute.</summary>
    public OnnxBuilder ConstantInt64(string output, long[] values, long[] dims, string? name = null) =>
        Node("Constant", [], [output], name, new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = Int64Tensor(string.Empty, values, dims, raw: true) });

    /// <summary>A node with an automatic name (its op type and index) and attributes.</summary>
    public OnnxBuilder Node(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes) =>
        Node(opType, inputs, outputs, $"{opType.ToLowerInvariant()}{_graph.Node.Count}", attributes);

    /// <summary>A node with an explicit name ("" leaves it unnamed, as exporters sometimes do).</summary>
    public OnnxBuilder Node(string opType, string[] inputs, string[] outputs, string? name, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = opType, Name = name ?? $"{opType.ToLowerInvariant()}{_graph.Node.Count}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>Also lists every initializer as a graph input, as exporters did for old opsets (IR &lt; 4).</summary>
    public OnnxBuilder InitializersAsInputs()
    {
        _initializersAsInputs = true;
        return this;
    }

    /// <summary>Reorders the nodes (to test that the reader sorts them).</summary>
    public OnnxBuilder ReverseNodes()
    {
        var nodes = _graph.Node.Reverse().ToList();
        _graph.Node.Clear();
        _graph.Node.AddRange(nodes);
        return this;
    }

    public static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    public static AttributeProto Float32(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Floats(string name, params float[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        a.Floats.AddRange(values);
        return a;
    }

    public static AttributeProto String(string name, string value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    /// <summary>The model as a protobuf message.</summary>
    public ModelProto Build()
    {
        GraphProto graph = _graph.Clone();
        if (_initializersAsInputs)
        {
            foreach (TensorProto t in graph.Initializer)
            {
                graph.Input.Add(ValueInfo(t.Name, t.DataType, t.Dims.Cast<object>().ToArray()));
            }
        }

        var model = new ModelProto { IrVersion = _irVersion, ProducerName = "clrp-tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = _opset });
        return model;
    }

    /// <summary>The serialized model.</summary>
    public byte[] ToBytes() => Build().ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/> (a fresh temporary file when null) and returns the path.</summary>
    public string Save(string? path = null)
    {
        path ??= Path.Combine(TestPaths.TempDir(), "model.onnx");
        File.WriteAllBytes(path, ToBytes());
        return path;
    }

    public static TensorProto FloatTensor(string name, float[] values, long[] dims, bool raw)
    {
        var t = new TensorProto { Name = name, DataType = Float };
        t.Dims.AddRange(dims);
        if (raw)
        {
            t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            t.FloatData.AddRange(values);
        }

        return t;
    }

    public static TensorProto Int64Tensor(string name, long[] values, long[] dims, bool raw)
    {
        var t = new TensorProto { Name = name, DataType = Int64 };
        t.Dims.AddRange(dims);
        if (raw)
        {
            t.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            t.Int64Data.AddRange(values);
        }

        return t;
    }

    private static ValueInfoProto ValueInfo(string name, int elementType, object[]? dims)
    {
        var tensor = new TypeProto.Types.Tensor { ElemType = elementType };
        if (dims is not null)
        {
            tensor.Shape = new TensorShapeProto();
            foreach (object d in dims)
            {
                tensor.Shape.Dim.Add(d switch
                {
                    string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                    int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                    long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                    _ => throw new ArgumentException($"dimension {d} is neither a number nor a name"),
                });
            }
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensor } };
    }
}
