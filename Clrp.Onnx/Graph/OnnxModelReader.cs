using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Graph;

/// <summary>
/// Reads an ONNX file into an <see cref="OnnxGraph"/> with the protobuf library, and validates what the
/// explainer relies on. Every failure is a <see cref="ModelLoadException"/> or <see cref="InvalidGraphException"/>
/// naming the file.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Reads and validates the model at <paramref name="path"/>.</summary>
    public static OnnxGraph Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"model file '{path}' not found.");
        }

        // Parsed from the stream, not from a byte[] copy of the file: for a 553 MB VGG16 that copy was 553 MB of
        // garbage the GC kept committed for the rest of the process.
        ModelProto model;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20);
            if (stream.Length == 0)
            {
                throw new ModelLoadException($"model file '{path}' is empty.");
            }

            model = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException($"model file '{path}' is not a valid ONNX model (the file is truncated or corrupt: {e.Message})", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"model file '{path}' cannot be read: {e.Message}", e);
        }

        return FromProto(model, path);
    }

    /// <summary>Reads a model held in memory; <paramref name="source"/> names it in messages.</summary>
    public static OnnxGraph Read(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0)
        {
            throw new ModelLoadException($"model file '{source}' is empty.");
        }

        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException($"model file '{source}' is not a valid ONNX model (the file is truncated or corrupt: {e.Message})", e);
        }

        return FromProto(model, source);
    }

    internal static OnnxGraph FromProto(ModelProto model, string source)
    {
        if (model.Graph is null || model.Graph.Node.Count == 0 || model.OpsetImport.Count == 0)
        {
            throw new ModelLoadException($"model file '{source}' is not a valid ONNX model: it holds no graph nodes or no opset import.");
        }

        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (OperatorSetIdProto op in model.OpsetImport)
        {
            opsets[op.Domain == "ai.onnx" ? string.Empty : op.Domain] = op.Version;
        }

        GraphProto g = model.Graph;
        var constants = new Dictionary<string, ConstantTensor>(StringComparer.Ordinal);
        foreach (TensorProto init in g.Initializer)
        {
            ConstantTensor? c = TensorProtoDecoder.Decode(init, source);
            if (c is not null)
            {
                constants[init.Name] = c;
            }
        }

        List<Node> nodes = ReadNodes(g, opsets, constants, source);
        List<ValueInfoProto> fed = g.Input.Where(i => !constants.ContainsKey(i.Name) && !g.Initializer.Any(t => t.Name == i.Name)).ToList();
        RejectEmptyDimensions(fed, source);
        List<ValueInfo> inputs = fed.Select(ToValueInfo).ToList();
        List<ValueInfo> outputs = g.Output.Select(ToValueInfo).ToList();
        if (outputs.Count == 0)
        {
            throw new InvalidGraphException($"{source}: the graph declares no outputs.");
        }

        IReadOnlyList<Node> sorted = TopologicalSort.Sort(nodes, inputs.Select(i => i.Name).Concat(constants.Keys).Concat(g.Initializer.Select(t => t.Name)), source);
        var graph = new OnnxGraph(source, model, sorted, inputs, outputs, constants, opsets);
        foreach (ValueInfo output in outputs)
        {
            if (graph.Producer(output.Name) is null && !inputs.Any(i => i.Name == output.Name) && !constants.ContainsKey(output.Name))
            {
                throw new InvalidGraphException($"{source}: graph output '{output.Name}' is produced by no node.");
            }
        }

        return graph;
    }

    private static List<Node> ReadNodes(GraphProto g, Dictionary<string, long> opsets, Dictionary<string, ConstantTensor> constants, string source)
    {
        var nodes = new List<Node>(g.Node.Count);
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        for (int index = 0; index < g.Node.Count; index++)
        {
            NodeProto p = g.Node[index];
            string domain = p.Domain == "ai.onnx" ? string.Empty : p.Domain;
            if (!opsets.TryGetValue(domain, out long opset))
            {
                throw new InvalidGraphException($"{source}: node '{p.Name}' ({p.OpType}) uses domain '{domain}', which the model does not import.");
            }

            // Node names may be empty or repeated in ONNX; messages and rule assignments need unique ones.
            string name = string.IsNullOrEmpty(p.Name) ? $"{p.OpType}_{index}" : p.Name;
            string unique = name;
            for (int k = 1; !usedNames.Add(unique); k++)
            {
                unique = $"{name}_{k}";
            }

            var attributes = new NodeAttributes(p.Attribute);
            var node = new Node(unique, p.OpType, domain, opset, p.Input.ToArray(), p.Output.ToArray(), attributes);
            nodes.Add(node);
            if (p.OpType == "Constant" && domain.Length == 0 && p.Output.Count == 1)
            {
                ConstantTensor? value = ConstantNodeValue(attributes, source, unique);
                if (value is not null)
                {
                    constants[p.Output[0]] = value;
                }
            }
        }

        return nodes;
    }

    /// <summary>The tensor a Constant node holds, in any of its attribute forms (value, value_float(s), value_int(s)).</summary>
    private static ConstantTensor? ConstantNodeValue(NodeAttributes a, string source, string nodeName)
    {
        TensorProto? t = a.GetTensor("value");
        if (t is not null)
        {
            return TensorProtoDecoder.Decode(t, source) ?? throw new InvalidGraphException($"{source}: Constant node '{nodeName}' holds a tensor type ClrpMl cannot read.");
        }

        if (a.Has("value_float"))
        {
            return new ConstantTensor([], [a.GetFloat("value_float", 0)]);
        }

        if (a.Has("value_floats"))
        {
            float[] f = a.GetFloats("value_floats")!;
            return new ConstantTensor([f.Length], f);
        }

        if (a.Has("value_int"))
        {
            return new ConstantTensor([], [a.GetInt("value_int", 0)]);
        }

        if (a.Has("value_ints"))
        {
            long[] v = a.GetInts("value_ints")!;
            return new ConstantTensor([v.Length], v);
        }

        return null;
    }

    /// <summary>
    /// A fixed dimension of 0 or less on a graph input: ONNX Runtime would demand exactly that size (and nothing can
    /// be explained in an empty tensor), so the model is refused here rather than failing on every input later.
    /// </summary>
    private static void RejectEmptyDimensions(IEnumerable<ValueInfoProto> inputs, string source)
    {
        foreach (ValueInfoProto v in inputs)
        {
            if (v.Type?.TensorType?.Shape is not { } shape)
            {
                continue;
            }

            for (int axis = 0; axis < shape.Dim.Count; axis++)
            {
                TensorShapeProto.Types.Dimension d = shape.Dim[axis];
                if (d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue <= 0)
                {
                    throw new InvalidGraphException($"{source}: graph input '{v.Name}' declares axis {axis} of length {d.DimValue}; input dimensions must be positive or symbolic.");
                }
            }
        }
    }

    private static ValueInfo ToValueInfo(ValueInfoProto v)
    {
        TypeProto.Types.Tensor? tensorType = v.Type?.TensorType;
        if (tensorType is null)
        {
            return new ValueInfo(v.Name, 0, null);
        }

        IReadOnlyList<long?>? dims = tensorType.Shape is null
            ? null
            : tensorType.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue > 0 ? d.DimValue : (long?)null).ToArray();
        return new ValueInfo(v.Name, tensorType.ElemType, dims);
    }
}
