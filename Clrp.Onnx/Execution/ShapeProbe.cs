using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tensors;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// The per-image shape of every value an explanation reads, for one input size. Emitted graphs are specialised to these
/// shapes (pools' windows, routes, reshapes), so a graph is compiled per input size; the batch axis stays free.
/// First ONNX Runtime's own shape inference is asked, on a copy of the model whose large weights are turned into graph
/// inputs of the same shape: the session then holds no weights and opens in milliseconds (VGG16: instead of loading
/// 553 MB). Where inference leaves a dimension open (a shape computed from data), the model runs once over one image of
/// zeros with the values as extra outputs.
/// </summary>
internal static class ShapeProbe
{
    /// <summary>Float initializers above this many elements become inputs of the weightless probe model.</summary>
    private const int WeightElements = 4096;

    /// <summary>Runs the probe; throws <see cref="ShapeProbeException"/> when the model does not run on such an input.</summary>
    /// <param name="graph">The model (its protobuf still attached).</param>
    /// <param name="input">Its image input.</param>
    /// <param name="imageShape">The per-image input shape (without the batch axis).</param>
    /// <param name="values">The values whose shapes are wanted.</param>
    public static Dictionary<string, int[]> Run(OnnxGraph graph, ValueInfo input, int[] imageShape, IReadOnlyCollection<string> values)
    {
        // Outputs of shape-preserving unary nodes take their input's shape: asking ONNX Runtime for them too made the probe
        // of a 20,000-node Relu chain a session with 20,000 outputs (+0.4 s); the asked set is what changes shape.
        var sameAs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string v in values)
        {
            if (v != input.Name && graph.Producer(v) is Node p && p.Domain.Length == 0 && ShapePreserving.Contains(p.OpType) && p.Outputs[0] == v && p.Input(0).Length > 0)
            {
                sameAs[v] = p.Input(0);
            }
        }

        // Memoised (path compression): a chain of n such nodes would otherwise cost n² lookups.
        var roots = new Dictionary<string, string>(StringComparer.Ordinal);
        string Root(string v)
        {
            var path = new List<string>();
            string r = v;
            while (!roots.TryGetValue(r, out string? known) && sameAs.TryGetValue(r, out string? source))
            {
                path.Add(r);
                r = source;
            }

            r = roots.GetValueOrDefault(r, r);
            foreach (string p in path)
            {
                roots[p] = r;
            }

            return r;
        }

        string[] asked = values.Select(Root).Where(v => v != input.Name).Distinct(StringComparer.Ordinal).ToArray();
        Dictionary<string, int[]> probed = Infer(graph, input, imageShape, asked) ?? Measure(graph, input, imageShape, asked);
        // Exactly what was asked (and the input, as a run gives it): roots asked only on behalf of others are left out.
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal) { [input.Name] = probed[input.Name] };
        foreach (string v in values)
        {
            if (probed.TryGetValue(Root(v), out int[]? shape))
            {
                shapes[v] = shape;
            }
        }

        return shapes;
    }

    /// <summary>Unary ops whose output has their (first) input's shape, whatever their attributes.</summary>
    private static readonly HashSet<string> ShapePreserving = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Softsign", "Mish",
        "Gelu", "Erf", "Identity", "Dropout", "Clip", "Abs", "Neg", "Exp", "Sqrt", "BatchNormalization",
        "InstanceNormalization", "LayerNormalization", "GroupNormalization", "LRN",
    };

    /// <summary>The shapes from one run over an image of zeros.</summary>
    internal static Dictionary<string, int[]> Measure(OnnxGraph graph, ValueInfo input, int[] imageShape, IReadOnlyCollection<string> values)
    {
        try
        {
            using var capture = new ActivationCapture(graph, input, values, Device.Cpu, log: null);
            Dictionary<string, Tensor> outputs = capture.Run(new Tensor([1, .. imageShape]));
            return outputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape[1..], StringComparer.Ordinal);
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidGraphException)
        {
            throw new ShapeProbeException($"{graph.Source}: the model does not run on one image of shape {Tensor.FormatShape(imageShape)} ({e.Message})", e);
        }
    }

    /// <summary>
    /// ONNX Runtime's inferred shapes on the weightless copy, or null when any dimension stays open or the copy does not load
    /// (the run decides then).
    /// </summary>
    internal static Dictionary<string, int[]>? Infer(OnnxGraph graph, ValueInfo input, int[] imageShape, IReadOnlyCollection<string> values) =>
        InferFull(graph, input, [1, .. imageShape], values, firstKnownAxis: 1)?.ToDictionary(kv => kv.Key, kv => kv.Value[1..], StringComparer.Ordinal);

    /// <summary>
    /// The full shapes of <paramref name="values"/> (every axis) from ONNX Runtime's inference when it fixes them all, else from
    /// one run of the model over zeros of <paramref name="inputShape"/>; null when the model does not run on such an input.
    /// </summary>
    internal static Dictionary<string, int[]>? FullShapes(OnnxGraph graph, ValueInfo input, int[] inputShape, IReadOnlyCollection<string> values)
    {
        if (InferFull(graph, input, inputShape, values) is { } inferred)
        {
            return inferred;
        }

        try
        {
            string[] outputs = values.Where(v => v != input.Name).Distinct(StringComparer.Ordinal).ToArray();
            using var capture = new ActivationCapture(graph, input, outputs, Device.Cpu, log: null);
            Dictionary<string, Tensor> run = capture.Run(new Tensor(inputShape));
            return run.ToDictionary(kv => kv.Key, kv => kv.Value.Shape, StringComparer.Ordinal);
        }
        catch (Exception e) when (e is OnnxRuntimeException or ClrpException)
        {
            return null;
        }
    }

    /// <summary>
    /// ONNX Runtime's inferred full shapes (every axis, the batch axis included) of <paramref name="values"/> when the input has
    /// <paramref name="inputShape"/>, or null when any dimension from <paramref name="firstKnownAxis"/> on stays open or the weightless
    /// copy does not load.
    /// </summary>
    internal static Dictionary<string, int[]>? InferFull(OnnxGraph graph, ValueInfo input, int[] inputShape, IReadOnlyCollection<string> values, int firstKnownAxis = 0)
    {
        byte[] probe;
        string[] outputs = values.Where(v => v != input.Name).Distinct(StringComparer.Ordinal).ToArray();
        lock (graph.Model)
        {
            probe = WeightlessModel(graph.Model, input.Name, inputShape, outputs);
        }

        try
        {
            OrtSessionFactory.EnsureEnvironment();
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
            using var session = new InferenceSession(probe, options);
            var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal) { [input.Name] = inputShape };
            foreach (string name in outputs)
            {
                if (!session.OutputMetadata.TryGetValue(name, out NodeMetadata? meta) || meta.Dimensions.Length == 0 || meta.Dimensions.Skip(firstKnownAxis).Any(d => d < 0))
                {
                    return null;
                }

                shapes[name] = meta.Dimensions;
            }

            return shapes;
        }
        catch (OnnxRuntimeException)
        {
            return null;
        }
    }

    /// <summary>
    /// The model with every large float initializer made a graph input of the same shape, the image input fixed to
    /// the shape <paramref name="inputShape"/>, and <paramref name="outputs"/> as its outputs. Built on a shallow copy: the weight
    /// tensors are not copied or serialized.
    /// </summary>
    private static byte[] WeightlessModel(ModelProto model, string inputName, int[] inputShape, string[] outputs)
    {
        var graph = new GraphProto { Name = model.Graph.Name };
        graph.Node.AddRange(model.Graph.Node);
        graph.ValueInfo.AddRange(model.Graph.ValueInfo);
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorProto t in model.Graph.Initializer)
        {
            bool large = t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Aggregate(1L, (a, b) => a * b) > WeightElements;
            if (!large)
            {
                graph.Initializer.Add(t);
                continue;
            }

            var shape = new TensorShapeProto();
            shape.Dim.AddRange(t.Dims.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
            graph.Input.Add(new ValueInfoProto { Name = t.Name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = t.DataType, Shape = shape } } });
            inputs.Add(t.Name);
        }

        var image = new TensorShapeProto();
        image.Dim.AddRange(inputShape.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        graph.Input.Add(new ValueInfoProto { Name = inputName, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = image } } });
        graph.Input.AddRange(model.Graph.Input.Where(i => i.Name != inputName && !inputs.Contains(i.Name) && model.Graph.Initializer.All(t => t.Name != i.Name)));
        foreach (string name in outputs)
        {
            graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        }

        var copy = new ModelProto { IrVersion = Math.Max(model.IrVersion, 4), Graph = graph };
        copy.OpsetImport.AddRange(model.OpsetImport);
        copy.Functions.AddRange(model.Functions);
        return copy.ToByteArray();
    }

    /// <summary>The per-image input shape the model declares, or null when an axis besides the batch is symbolic.</summary>
    public static int[]? DeclaredImageShape(ValueInfo input) =>
        input.Dimensions is { Count: >= 2 } dims && dims.Skip(1).All(d => d is > 0)
            ? dims.Skip(1).Select(d => checked((int)d!.Value)).ToArray()
            : null;
}

/// <summary>The shape probe could not run the model on the requested input size.</summary>
internal sealed class ShapeProbeException(string message, Exception inner) : Exception(message, inner);
