using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Graph.Composition;

/// <summary>
/// Writes one ONNX model from a chain of models and a linear head: model 1's single output feeds model 2's single
/// input, and so on; the last output is flattened, normalised by the head's affine steps and classified by a Gemm
/// into <c>logits</c> [N,K], followed by <c>Softmax</c> → <c>probabilities</c>. This is how an ML.NET transfer-learning
/// pipeline (an ONNX featurizer, a normaliser, a trained linear trainer) becomes one graph that the explainer walks.
/// Every value and node of model i is renamed <c>m{i}/name</c> (ONNX names must be unique in a graph); the batch axis
/// of the input and output is left open (<c>N</c>) and intermediate shape hints are dropped, so that any batch size
/// runs. The models must share one opset (an operator's meaning depends on it) and hold no subgraphs.
/// </summary>
public static class ModelComposer
{
    /// <summary>Name of the composed graph's logits (the Gemm's output).</summary>
    public const string LogitsName = "logits";

    /// <summary>Name of the composed graph's output, Softmax of the logits.</summary>
    public const string ProbabilitiesName = "probabilities";

    /// <summary>Composes <paramref name="modelPaths"/> (in order) and <paramref name="head"/> into one model's bytes.</summary>
    /// <param name="modelPaths">ONNX files, each with one non-constant input and one output.</param>
    /// <param name="head">The classifier over the last model's output, flattened to F values.</param>
    /// <param name="inputName">Name of the composed model's input.</param>
    /// <exception cref="ModelLoadException">A file is missing or not ONNX.</exception>
    /// <exception cref="InvalidGraphException">A model has several inputs or outputs, subgraphs, another opset than the others, or an output of another size than the head expects.</exception>
    public static byte[] Compose(IReadOnlyList<string> modelPaths, LinearHead head, string inputName = "input")
    {
        ArgumentNullException.ThrowIfNull(modelPaths);
        ArgumentNullException.ThrowIfNull(head);
        if (modelPaths.Count == 0)
        {
            throw new InvalidGraphException("nothing to compose: give at least one ONNX model.");
        }

        ModelProto[] models = modelPaths.Select(Parse).ToArray();
        long opset = SingleOpset(models, modelPaths);
        var graph = new GraphProto { Name = "composed" };
        string previous = inputName;
        ValueInfoProto? firstInput = null;
        for (int m = 0; m < models.Length; m++)
        {
            GraphProto g = models[m].Graph;
            var constants = new HashSet<string>(g.Initializer.Select(t => t.Name));
            ValueInfoProto[] inputs = g.Input.Where(i => !constants.Contains(i.Name)).ToArray();
            if (inputs.Length != 1 || g.Output.Count != 1)
            {
                throw new InvalidGraphException($"{modelPaths[m]}: a composed model needs one input and one output; it has {inputs.Length} non-constant inputs and {g.Output.Count} outputs.");
            }

            if (g.Node.Any(n => n.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)))
            {
                throw new InvalidGraphException($"{modelPaths[m]}: models with subgraphs (If, Loop, Scan) cannot be composed.");
            }

            firstInput ??= inputs[0];
            string prefix = $"m{m + 1}/";
            string Rename(string name) => name.Length == 0 ? name : name == inputs[0].Name ? previous : prefix + name;
            foreach (TensorProto t in g.Initializer)
            {
                TensorProto copy = t.Clone();
                copy.Name = Rename(t.Name);
                graph.Initializer.Add(copy);
            }

            foreach (ValueInfoProto i in g.Input.Where(i => constants.Contains(i.Name)))
            {
                ValueInfoProto copy = i.Clone();
                copy.Name = Rename(i.Name);
                graph.Input.Add(copy);
            }

            foreach (NodeProto n in g.Node)
            {
                NodeProto copy = n.Clone();
                copy.Name = prefix + (n.Name.Length > 0 ? n.Name : $"node{graph.Node.Count}");
                copy.Input.Clear();
                copy.Input.AddRange(n.Input.Select(Rename));
                copy.Output.Clear();
                copy.Output.AddRange(n.Output.Select(Rename));
                graph.Node.Add(copy);
            }

            previous = Rename(g.Output[0].Name);
        }

        ValueInfoProto input = firstInput!.Clone();
        input.Name = inputName;
        OpenBatchAxis(input);
        graph.Input.Insert(0, input);
        AddHead(graph, previous, head);
        graph.Output.Add(Output(ProbabilitiesName, head.Classes));

        var model = new ModelProto
        {
            IrVersion = models.Max(m => m.IrVersion),
            ProducerName = "ClrpMl ModelComposer",
            Graph = graph,
            DocString = "Composed from " + string.Join(" + ", modelPaths.Select(Path.GetFileName)) + $" and a linear head ({head.Classes} classes over {head.Features} features).",
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model.ToByteArray();
    }

    /// <summary>Flatten → (Sub, Mul)* → Gemm → logits → Softmax → probabilities.</summary>
    private static void AddHead(GraphProto graph, string features, LinearHead head)
    {
        int k = head.Classes, f = head.Features;
        if (k < 1 || head.Weights.Length != k * f)
        {
            throw new InvalidGraphException($"linear head: {head.Weights.Length} weights do not make a {k}×F matrix for {k} biases.");
        }

        string current = Add(graph, "Flatten", [features], "head/flat", Int("axis", 1));
        int step = 0;
        foreach (AffineStep affine in head.Affine)
        {
            step++;
            if (affine.Offset is { } offset)
            {
                graph.Initializer.Add(Constant($"head/offset{step}", offset, f));
                current = Add(graph, "Sub", [current, $"head/offset{step}"], $"head/centred{step}");
            }

            if (affine.Scale is { } scale)
            {
                graph.Initializer.Add(Constant($"head/scale{step}", scale, f));
                current = Add(graph, "Mul", [current, $"head/scale{step}"], $"head/scaled{step}");
            }
        }

        graph.Initializer.Add(Constant("head/weights", head.Weights, k, f));
        graph.Initializer.Add(Constant("head/bias", head.Bias, k));
        string logits = Add(graph, "Gemm", [current, "head/weights", "head/bias"], LogitsName, Int("transB", 1));
        Add(graph, "Softmax", [logits], ProbabilitiesName, Int("axis", 1));
    }

    private static string Add(GraphProto graph, string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output + "_" + op };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
        return output;
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static TensorProto Constant(string name, float[] values, params long[] dims)
    {
        if (values.LongLength != dims.Aggregate(1L, (a, d) => a * d))
        {
            throw new InvalidGraphException($"linear head: '{name}' has {values.Length} values, expected {string.Join('×', dims)}.");
        }

        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    private static ValueInfoProto Output(string name, int classes)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = classes });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }

    /// <summary>Makes the first axis symbolic, so that batches of any size run (CNTK exports fix it to 1).</summary>
    private static void OpenBatchAxis(ValueInfoProto value)
    {
        if (value.Type?.TensorType?.Shape is { Dim.Count: > 0 } shape)
        {
            shape.Dim[0] = new TensorShapeProto.Types.Dimension { DimParam = "N" };
        }
    }

    private static ModelProto Parse(string path)
    {
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"model file '{path}' does not exist.");
        }

        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ModelLoadException($"'{path}' is not an ONNX model: {e.Message}", e);
        }
    }

    private static long SingleOpset(ModelProto[] models, IReadOnlyList<string> paths)
    {
        long[] opsets = models.Select(m => m.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max()).ToArray();
        if (opsets.Distinct().Count() != 1)
        {
            throw new InvalidGraphException($"models of different opsets cannot be composed: {string.Join(", ", paths.Select((p, i) => $"{Path.GetFileName(p)} {opsets[i]}"))}.");
        }

        if (models.Any(m => m.OpsetImport.Any(o => o.Domain is not ("" or "ai.onnx"))))
        {
            throw new InvalidGraphException("models that use operators outside the default ONNX domain cannot be composed.");
        }

        return opsets[0];
    }
}
