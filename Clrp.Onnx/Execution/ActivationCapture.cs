using Clrp.Onnx.Graph;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Runs the model once on ONNX Runtime and returns the intermediate values the relevance walk needs,
/// copied to managed tensors. The values are exposed by adding them as extra graph outputs to a copy
/// of the model ("augmented model"); native buffers are disposed before <see cref="Run"/> returns.
/// A model whose batch axis is fixed at 1 is run once per image and the results stacked.
/// </summary>
internal sealed class ActivationCapture : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string[] _outputNames;
    private readonly bool _batchFixedToOne;
    private readonly OrtFailures _failures;

    /// <param name="graph">The model.</param>
    /// <param name="input">Its image input.</param>
    /// <param name="values">The values to capture.</param>
    /// <param name="device">Where ORT runs.</param>
    /// <param name="log">Receives the CUDA fallback line.</param>
    /// <param name="extraNodes">Nodes added to the runtime graph (e.g. the rules' denominators) whose outputs are among <paramref name="values"/>.</param>
    /// <param name="extraInitializers">The initializers those nodes read.</param>
    public ActivationCapture(OnnxGraph graph, ValueInfo input, IReadOnlyCollection<string> values, Device device, Action<string>? log,
        IReadOnlyList<NodeProto>? extraNodes = null, IReadOnlyList<TensorProto>? extraInitializers = null)
    {
        _inputName = input.Name;
        _outputNames = values.Where(v => v != input.Name).Distinct(StringComparer.Ordinal).ToArray();
        _batchFixedToOne = input.Dimensions is { Count: > 0 } d && d[0] == 1;
        byte[] augmented = Augment(graph.Model, _outputNames, extraNodes ?? [], extraInitializers ?? []);
        (_session, Provider) = OrtSessionFactory.Create(augmented, device, graph.Source, log);
        _failures = new OrtFailures(graph.Model, graph.Source);
        try
        {
            InferredShapeCheck.Check(_session, _outputNames, graph.Model, graph.Source, input.ShapeText);
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    /// <summary>The execution provider in use ("CPU" or "CUDA:id").</summary>
    public string Provider { get; }

    /// <summary>
    /// Ask ONNX Runtime to give its arena's unused chunks back after every run (<c>memory.enable_memory_arena_shrinkage</c>):
    /// without it the arena keeps its peak for the life of the session. Set when the explainer has a memory budget.
    /// </summary>
    public bool ShrinkArenaAfterRun { get; set; }

    /// <summary>
    /// Runs <paramref name="input"/> ([N, …]) and returns every captured value plus the input itself, each [N, …].
    /// The copies' buffers come from <paramref name="pool"/> when one is given.
    /// </summary>
    public Dictionary<string, Tensor> Run(Tensor input, BufferPool? pool = null)
    {
        int n = input.Shape[0];
        if (!_batchFixedToOne || n == 1)
        {
            Dictionary<string, Tensor> result = RunOnce(input, pool);
            result[_inputName] = input;
            return result;
        }

        var parts = new List<Dictionary<string, Tensor>>(n);
        for (int i = 0; i < n; i++)
        {
            var one = new Tensor(input.Row(i).ToArray(), [1, .. input.Shape[1..]]);
            parts.Add(RunOnce(one, pool));
        }

        var stacked = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string name in _outputNames)
        {
            Tensor first = parts[0][name];
            Tensor all = pool?.Rent([n, .. first.Shape[1..]], clear: false) ?? new Tensor([n, .. first.Shape[1..]]);
            for (int i = 0; i < n; i++)
            {
                parts[i][name].Data.CopyTo(all.Data, i * first.Length);
                pool?.Return(parts[i][name]);
            }

            stacked[name] = all;
        }

        stacked[_inputName] = input;
        return stacked;
    }

    private Dictionary<string, Tensor> RunOnce(Tensor input, BufferPool? pool) =>
        OrtRun.RunAndCopy(_session, _inputName, input, _outputNames, pool,
            configure: ShrinkArenaAfterRun
                ? o => o.AddRunConfigEntry("memory.enable_memory_arena_shrinkage", Provider.StartsWith("CUDA:", StringComparison.Ordinal) ? $"cpu:0;gpu:{Provider[5..]}" : "cpu:0")
                : null,
            translate: e => _failures.Translate(e, input.Shape));

    /// <summary>
    /// <paramref name="model"/> serialized with <paramref name="values"/> added as graph outputs. The outputs are added
    /// to the model itself, serialized and removed again — cloning a model of hundreds of megabytes to add a few
    /// names would double the memory and time of loading it. The lock keeps concurrent loads of one graph apart.
    /// </summary>
    private static byte[] Augment(ModelProto model, IEnumerable<string> values, IReadOnlyList<NodeProto> extraNodes, IReadOnlyList<TensorProto> extraInitializers)
    {
        lock (model)
        {
            var existing = new HashSet<string>(model.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
            int original = model.Graph.Output.Count;
            int originalNodes = model.Graph.Node.Count, originalInitializers = model.Graph.Initializer.Count;
            model.Graph.Node.AddRange(extraNodes);
            model.Graph.Initializer.AddRange(extraInitializers);
            foreach (string value in values)
            {
                if (existing.Add(value))
                {
                    // Element type only: ORT infers the shape; a missing shape is allowed for graph outputs.
                    model.Graph.Output.Add(new ValueInfoProto
                    {
                        Name = value,
                        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
                    });
                }
            }

            try
            {
                return Google.Protobuf.MessageExtensions.ToByteArray(model);
            }
            finally
            {
                while (model.Graph.Output.Count > original)
                {
                    model.Graph.Output.RemoveAt(model.Graph.Output.Count - 1);
                }

                while (model.Graph.Node.Count > originalNodes)
                {
                    model.Graph.Node.RemoveAt(model.Graph.Node.Count - 1);
                }

                while (model.Graph.Initializer.Count > originalInitializers)
                {
                    model.Graph.Initializer.RemoveAt(model.Graph.Initializer.Count - 1);
                }
            }
        }
    }

    public void Dispose() => _session.Dispose();
}
