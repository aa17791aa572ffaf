using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Compiling;

/// <summary>
/// Runs a <see cref="CompiledGraph"/> on ONNX Runtime: the input and the targets go in, the logits, maps and sums come out
/// of one run on the session's device; nothing else crosses to the host. A model whose batch axis is fixed at 1 is run once
/// per image. Thread-safe (ONNX Runtime sessions are).
/// </summary>
internal sealed class CompiledEngine : IExplanationEngine
{
    private readonly InferenceSession _session;
    private readonly CompiledGraph _graph;
    private readonly string _source;
    private readonly bool _batchFixedToOne;
    private readonly string[] _outputs;
    private readonly int[]? _heatmapRow;

    private CompiledEngine(InferenceSession session, string provider, CompiledGraph graph, string source, bool batchFixedToOne)
    {
        _session = session;
        Provider = provider;
        _graph = graph;
        _source = source;
        _batchFixedToOne = batchFixedToOne;
        _outputs = session.OutputMetadata.Keys.ToArray();
        // The heatmap's per-image dims as the graph declares them ([k, H, W]; channels-last inputs sum their last axis).
        _heatmapRow = session.OutputMetadata.TryGetValue(CompiledNames.Heatmap, out NodeMetadata? heat) && heat.Dimensions.Skip(1).All(d => d > 0)
            ? heat.Dimensions.Skip(1).ToArray()
            : null;
    }

    public string Name => "compiled";

    public string Provider { get; }

    /// <summary>The graph this engine runs.</summary>
    public CompiledGraph Graph => _graph;

    /// <summary>Opens a session for <paramref name="graph"/> (its model as bytes, or <paramref name="input"/>) on <paramref name="device"/>.</summary>
    public static CompiledEngine Open(CompiledGraph graph, Device device, Action<string>? log, string source, bool batchFixedToOne, SessionInput? input = null)
    {
        (InferenceSession session, string provider) = OrtSessionFactory.Create(input ?? new SessionInput(graph.Model, null), device, source, log);
        // ONNX Runtime holds the graph now; the serialized copy (the size of the model) is not kept.
        return new CompiledEngine(session, provider, graph with { Model = [] }, source, batchFixedToOne);
    }

    public Explanation Explain(Tensor batch, Target target)
    {
        int n = batch.Shape[0];
        (long[] values, int rows) = target.Encode(n, _graph.Classes);
        if (target.Count != _graph.Layout.K)
        {
            throw new InvalidOperationException($"a graph compiled for k = {_graph.Layout.K} was asked for {target.Count} classes per image.");
        }

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Dictionary<string, Tensor> outputs;
        Tensor classes;
        if (_batchFixedToOne && n > 1)
        {
            var parts = Enumerable.Range(0, n).Select(i => Run(new Tensor(batch.Row(i).ToArray(), [1, .. batch.Shape[1..]]), rows == 1 ? values : values[i..(i + 1)], 1)).ToList();
            outputs = _outputs.Where(name => name != CompiledNames.Classes).ToDictionary(name => name, name => Stack(parts.Select(p => p.Floats[name]).ToList()), StringComparer.Ordinal);
            classes = Stack(parts.Select(p => p.Classes).ToList());
        }
        else
        {
            (outputs, classes) = Run(batch, values, rows);
        }

        TimeSpan elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        return Assemble(batch, outputs, classes, elapsed);
    }

    /// <summary>
    /// One run with every input and output bound in place (IOBinding): ONNX Runtime reads the caller's input buffer and writes
    /// each output straight into the managed tensor that will hold it, so no output is copied after the run (on CUDA the
    /// outputs are the only tensors that come back to the host).
    /// </summary>
    private (Dictionary<string, Tensor> Floats, Tensor Classes) Run(Tensor batch, long[] targets, int rows)
    {
        int n = batch.Shape[0];
        var floats = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var classes = new long[n * _graph.Layout.K];
        var values = new List<OrtValue>();
        try
        {
            using OrtIoBinding binding = _session.CreateIoBinding();
            values.Add(OrtValue.CreateTensorValueFromMemory(batch.Data, Array.ConvertAll(batch.Shape, d => (long)d)));
            binding.BindInput(_graph.InputName, values[^1]);
            values.Add(OrtValue.CreateTensorValueFromMemory(targets, [rows, _graph.Layout.K]));
            binding.BindInput(CompiledNames.Targets, values[^1]);
            foreach (string name in _outputs)
            {
                if (name == CompiledNames.Classes)
                {
                    values.Add(OrtValue.CreateTensorValueFromMemory(classes, [n, _graph.Layout.K]));
                }
                else
                {
                    var t = new Tensor(OutputShape(name, n));
                    floats[name] = t;
                    values.Add(OrtValue.CreateTensorValueFromMemory(t.Data, Array.ConvertAll(t.Shape, d => (long)d)));
                }

                binding.BindOutput(name, values[^1]);
            }

            using var options = new RunOptions();
            _session.RunWithBinding(options, binding);
        }
        finally
        {
            foreach (OrtValue value in values)
            {
                value.Dispose();
            }
        }

        return (floats, new Tensor(Array.ConvertAll(classes, v => (float)v), [n, _graph.Layout.K]));
    }

    /// <summary>The shape of output <paramref name="name"/> for <paramref name="n"/> images (<see cref="CompiledNames"/>).</summary>
    private int[] OutputShape(string name, int n)
    {
        int k = _graph.Layout.K;
        int[] row = _graph.Request.ImageShape;
        int walked = _graph.Request.Method.IsContrastive() ? 2 * k : k;
        return name switch
        {
            CompiledNames.Logits => [n, _graph.Classes],
            CompiledNames.Heatmap => _heatmapRow is not null ? [n, .. _heatmapRow] : row.Length == 3 ? [n, k, row[1], row[2]] : [n, k, .. row],
            CompiledNames.SeedSums or CompiledNames.InputSums => [n, walked],
            _ => [n, k, .. row],
        };
    }

    private Explanation Assemble(Tensor batch, Dictionary<string, Tensor> outputs, Tensor classes, TimeSpan elapsed)
    {
        int n = batch.Shape[0], k = _graph.Layout.K;
        Tensor logits = outputs[CompiledNames.Logits];
        if (!logits.AllFinite())
        {
            throw new InvalidGraphException($"{_source}: the model produced NaN/Inf logits for this input.");
        }

        int[] targets = Array.ConvertAll(classes.Data, v => (int)v);
        ExplainMethod method = _graph.Request.Method;
        bool contrastive = method.IsContrastive();
        Tensor seedSums = outputs[CompiledNames.SeedSums], inputSums = outputs[CompiledNames.InputSums];
        int perImage = contrastive ? 2 * k : k;
        var diagnostics = new List<SeedDiagnostics>(n * perImage);
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < perImage; s++)
            {
                diagnostics.Add(new SeedDiagnostics(img, targets[(img * k) + (s % k)], s < k ? "target" : "dual",
                    seedSums.Data[(img * perImage) + s], inputSums.Data[(img * perImage) + s]));
            }
        }

        string rules = method.IsGradient() ? "gradient" : _graph.Request.Composite.Name;
        ExplainerChecks.ValidateRelevance(outputs[CompiledNames.Relevance], _source, method, rules);
        return new Explanation(method, rules, outputs[CompiledNames.Relevance], logits, targets, k,
            contrastive ? outputs[CompiledNames.TargetRelevance] : null,
            contrastive ? outputs[CompiledNames.DualRelevance] : null,
            contrastive ? outputs[CompiledNames.SignedDifference] : null,
            diagnostics, Provider, outputs[CompiledNames.Heatmap])
        {
            Engine = Name,
            WalkTime = elapsed,
        };
    }

    /// <summary>Stacks per-image results [1, …] into [N, …].</summary>
    private static Tensor Stack(IReadOnlyList<Tensor> parts)
    {
        var all = new Tensor([parts.Count, .. parts[0].Shape[1..]]);
        for (int i = 0; i < parts.Count; i++)
        {
            parts[i].Data.CopyTo(all.Data, i * parts[0].Length);
        }

        return all;
    }

    public void Dispose() => _session.Dispose();
}
