using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// Explains an ONNX classifier's decisions with LRP, CLRP1, CLRP2, SGLRP or gradient baselines.
/// <see cref="Load"/> reads and validates the model (unsupported operators fail here, not mid-walk) and opens
/// an ONNX Runtime session whose graph also outputs the activations the walk needs. Each
/// <see cref="Explain(Tensor, Target?)"/> runs one forward pass and one backward walk over a batch of seeds.
/// Thread safety: <see cref="Explain(Tensor, Target?)"/> may be called from several threads at once; the
/// explainer holds no per-call state (ONNX Runtime sessions are thread-safe, weight caches are concurrent).
/// </summary>
public sealed class ClrpExplainer : IDisposable
{
    private readonly ExplanationPlan _plan;
    private readonly ActivationCapture _capture;
    private readonly ExplainerOptions _options;
    private readonly Composite _composite;

    // Per Conv node and rule part, the captured value that holds its denominator (ForwardDenominators).
    private readonly IReadOnlyDictionary<string, string?[]> _denominators;

    // Reused between explanations: captured activations and the walk's large temporaries (see BufferPool).
    private readonly BufferPool _pool;

    // ObjectDisposedException after Dispose; Dispose waits for explanations in flight (issue 12).
    private readonly DisposalGuard _guard = new(nameof(ClrpExplainer));

    // ExplainerOptions.MaxMemoryBytes: requests refused before allocating, the pool and ORT's arena kept small.
    private readonly MemoryBudget _budget;

    private ClrpExplainer(ExplanationPlan plan, ActivationCapture capture, ExplainerOptions options, Composite composite, IReadOnlyDictionary<string, string?[]> denominators)
    {
        _denominators = denominators;
        _plan = plan;
        _capture = capture;
        _options = options;
        _composite = composite;
        _pool = new BufferPool(MemoryBudget.PoolCapacity(options));
        _budget = new MemoryBudget(options.MaxMemoryBytes);
        capture.ShrinkArenaAfterRun = options.MaxMemoryBytes is not null;
    }

    /// <summary>The model's image input as declared (name, element type, shape with '?' for dynamic axes).</summary>
    public ValueInfo Input => _guard.Checked(_plan.Input);

    /// <summary>The value seeds are placed on (the logits).</summary>
    public string LogitsName => _guard.Checked(_plan.Logits);

    /// <summary>The options in effect.</summary>
    public ExplainerOptions Options => _guard.Checked(_options);

    /// <summary>ONNX Runtime's execution provider ("CPU" or "CUDA:id").</summary>
    public string ExecutionProvider => _guard.Checked(_capture.Provider);

    /// <summary>Per node: its rule, "propagates", "constant", … (what <c>clrp info</c> prints).</summary>
    public IReadOnlyList<NodeReport> Nodes => _guard.Checked(_plan.Report);

    /// <summary>Loads and validates <paramref name="modelPath"/>.</summary>
    /// <exception cref="ModelLoadException">Missing, empty, truncated or corrupt file.</exception>
    /// <exception cref="InvalidGraphException">Malformed graph or no float image input.</exception>
    /// <exception cref="UnsupportedOperatorException">An operator on the explained path has no propagator.</exception>
    /// <exception cref="DeviceUnavailableException">CUDA requested without fallback and not loadable.</exception>
    public static ClrpExplainer Load(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        OnnxGraph graph = OnnxModelReader.Read(modelPath);
        Composite composite = options.EffectiveRules;
        ExplanationPlan plan = ExplanationPlan.Build(graph, options.OutputName, composite, strict: true);
        try
        {
            return Create(plan, options, composite, modelPath);
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    private static ClrpExplainer Create(ExplanationPlan plan, ExplainerOptions options, Composite composite, string modelPath)
    {
        if (options.Method == ExplainMethod.Clrp2)
        {
            if (plan.LogitLayer is null)
            {
                throw new InvalidGraphException($"{modelPath}: CLRP2 needs the linear layer that computes '{plan.Logits}', but the logits are not reached from one through single-input operators; use clrp1.");
            }

            if (plan.Rules[plan.LogitLayer.Name] is EpsilonRule)
            {
                options.Log?.Invoke($"warning: composite '{composite.Name}' puts the ε rule on the logit layer '{plan.LogitLayer.Name}'; CLRP2's dual then equals the target map and the CLRP2 map is ~0. Use --rules paper.");
            }
        }

        ForwardDenominators denominators = options.Method.IsGradient() || !options.DenominatorsInCapture ? ForwardDenominators.None : ForwardDenominators.Build(plan);
        string[] captured = [.. plan.CapturedValues.Concat(denominators.Values).Distinct(StringComparer.Ordinal)];
        var capture = new ActivationCapture(plan.Graph, plan.Input, captured, options.Device, options.Log, denominators.Nodes, denominators.Initializers);
        plan.Graph.ReleaseModel();
        return new ClrpExplainer(plan, capture, options, composite, denominators.ValuesByNode);
    }

    /// <summary>
    /// Reads <paramref name="modelPath"/> and reports every node's role without opening a runtime session and
    /// without throwing for unsupported operators (they are listed as such). File and graph errors still throw.
    /// </summary>
    public static ModelReport Inspect(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        OnnxGraph graph = OnnxModelReader.Read(modelPath);
        using ExplanationPlan plan = ExplanationPlan.Build(graph, options.OutputName, options.EffectiveRules, strict: false);
        return new ModelReport(graph.Source, plan.Input, plan.ExplainedOutput, plan.Logits, graph.Opsets, plan.Report, plan.FirstLinear?.Name, plan.LogitLayer?.Name);
    }

    /// <summary>Explains <paramref name="input"/>, shaped like the model input ([N, C, H, W]) or without the batch axis.</summary>
    /// <param name="input">The preprocessed input, float32.</param>
    /// <param name="target">Class, <see cref="Target.Predicted"/> (default) or <see cref="Target.TopK"/>.</param>
    /// <exception cref="InvalidInputException">Wrong shape, NaN or ±Inf.</exception>
    /// <exception cref="InvalidTargetException">A class outside [0, K).</exception>
    public Explanation Explain(Tensor input, Target? target = null)
    {
        using DisposalGuard.Lease lease = _guard.Enter();
        try
        {
            return ExplainCore(input, target);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            // The capture run translates its own failures (naming the node); this is ORT inside the walk's kernels.
            throw OrtFailures.Internal(e, _plan.Graph.Source, "the backward walk's kernels");
        }
    }

    private Explanation ExplainCore(Tensor input, Target? target)
    {
        ArgumentNullException.ThrowIfNull(input);
        target ??= Target.Predicted;
        Tensor batch = ValidateInput(input);
        _budget.Check(batch, target, _options.Method, _capture);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Dictionary<string, Tensor> activations = _capture.Run(batch, _pool);
        _budget.Record(batch, activations);
        TimeSpan forwardTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Tensor logits = activations[_plan.Logits];
        int n = batch.Shape[0];
        int classes = ValidateLogits(logits, n);
        RequestLimits.CheckTargets(target, classes);
        var logits2d = logits.Reshape(n, classes);

        int k = target.Count;
        int perImage = SeedFactory.RowsPerImage(_options.Method, k);
        int rows = n * perImage;
        var targets = new int[n * k];
        for (int img = 0; img < n; img++)
        {
            target.Resolve(img, logits2d.Row(img)).CopyTo(targets, img * k);
        }

        var seeds = new Tensor(rows, classes);
        var rowImage = new int[rows];
        var negated = _options.Method == ExplainMethod.Clrp2 ? Enumerable.Repeat(-1, rows).ToArray() : null;
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < perImage; s++)
            {
                int row = (img * perImage) + s;
                bool dual = s >= k;
                int j = targets[(img * k) + (s % k)];
                rowImage[row] = img;
                SeedFactory.Fill(seeds.Row(row), logits2d.Row(img), j, _options.Method, dual, _options.DualSeed);
                if (dual && negated is not null)
                {
                    negated[row] = j;
                }
            }
        }

        long walkStarted = System.Diagnostics.Stopwatch.GetTimestamp();
        WalkProfiler? profiler = _options.Profile ? new WalkProfiler() : null;
        Tensor atInput = WalkInChunks(activations, seeds, rowImage, negated, batch, profiler);
        Explanation explanation = Assemble(batch, atInput, seeds, logits2d, targets, k, perImage, forwardTime, walkStarted, profiler);
        foreach ((string name, Tensor value) in activations)
        {
            // The logits live on in the explanation and the input belongs to the caller; the rest is spent.
            if (name != _plan.Logits && !ReferenceEquals(value.Data, batch.Data))
            {
                _pool.Return(value);
            }
        }

        _pool.Return(atInput);
        return explanation;
    }

    /// <summary>Explains a flat buffer of shape <paramref name="shape"/>.</summary>
    public Explanation Explain(float[] input, int[] shape, Target? target = null) => Explain(new Tensor(input, shape), target);

    private Tensor WalkInChunks(Dictionary<string, Tensor> activations, Tensor seeds, int[] rowImage, int[]? negated, Tensor batch, WalkProfiler? profiler)
    {
        int rows = seeds.Shape[0];
        long perRow = EstimateBytesPerRow(activations);
        if (perRow > _options.MaxWalkBytes)
        {
            throw new ResourceLimitException($"one seed needs about {perRow >> 20} MiB in the backward walk, more than the {_options.MaxWalkBytes >> 20} MiB budget (ExplainerOptions.MaxWalkBytes).");
        }

        int chunk = (int)Math.Clamp(_options.MaxWalkBytes / perRow, 1, rows);
        bool gradient = _options.Method.IsGradient();
        // Without given bounds, z^B uses each image's own range at the first linear layer's input (after any
        // normalisation baked into the graph), which is where the rule applies.
        Tensor firstInput = _plan.FirstLinear is { } first && activations.TryGetValue(first.Input(0), out Tensor? a) ? a : batch;
        IReadOnlyList<BoxBounds> defaultBounds = _options.Bounds is { } given ? [given] : Enumerable.Range(0, batch.Shape[0]).Select(n => BoxBounds.FromData(firstInput, n)).ToArray();
        var result = new Tensor([rows, .. batch.Shape[1..]]);
        for (int start = 0; start < rows; start += chunk)
        {
            int count = Math.Min(chunk, rows - start);
            var chunkSeeds = new Tensor(seeds.Data.AsSpan(start * seeds.RowLength, count * seeds.RowLength).ToArray(), [count, seeds.Shape[1]]);
            var context = new PropagationContext
            {
                Graph = _plan.Graph,
                Activations = activations,
                RowImage = rowImage[start..(start + count)],
                Mode = gradient ? PropagationMode.Gradient : PropagationMode.Relevance,
                Rules = _plan.Rules,
                DefaultBounds = defaultBounds,
                NegatedLayer = negated is null ? null : _plan.LogitLayer?.Name,
                NegatedUnit = negated?[start..(start + count)],
                Profiler = profiler,
                Pool = _pool,
                Denominators = _denominators,
            };
            Tensor part = RelevanceWalker.Walk(_plan, context, chunkSeeds);
            part.Data.CopyTo(result.Data, start * result.RowLength);
            if (!ReferenceEquals(part.Data, result.Data))
            {
                _pool.Return(part);
            }
        }

        return result;
    }

    /// <summary>Bytes one relevance row may hold at once: the largest activation a few times over (relevance, quotient, gradient, result).</summary>
    private static long EstimateBytesPerRow(Dictionary<string, Tensor> activations) =>
        activations.Values.Max(t => (long)t.RowLength) * sizeof(float) * 6;

    private Explanation Assemble(Tensor batch, Tensor atInput, Tensor seeds, Tensor logits, int[] targets, int k, int perImage, TimeSpan forwardTime, long walkStarted, WalkProfiler? profiler)
    {
        int n = batch.Shape[0];
        int length = batch.RowLength;
        int[] perImageShape = batch.Shape[1..];
        var final = new Tensor([n, k, .. perImageShape]);
        Tensor? targetR = null, dualR = null, signed = null;
        var diagnostics = new List<SeedDiagnostics>(n * perImage);
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < perImage; s++)
            {
                int row = (img * perImage) + s;
                diagnostics.Add(new SeedDiagnostics(img, targets[(img * k) + (s % k)], s < k ? "target" : "dual",
                    SeedFactory.Sum(seeds.Row(row)), SeedFactory.Sum(atInput.Row(row))));
            }
        }

        if (_options.Method.IsContrastive())
        {
            targetR = new Tensor(final.Shape);
            dualR = new Tensor(final.Shape);
            signed = new Tensor(final.Shape);
        }

        for (int img = 0; img < n; img++)
        {
            for (int i = 0; i < k; i++)
            {
                int slot = ((img * k) + i) * length;
                ReadOnlySpan<float> r = atInput.Data.AsSpan(((img * perImage) + i) * length, length);
                Span<float> dest = final.Data.AsSpan(slot, length);
                switch (_options.Method)
                {
                    case ExplainMethod.Clrp1 or ExplainMethod.Clrp2:
                        ReadOnlySpan<float> rDual = atInput.Data.AsSpan(((img * perImage) + k + i) * length, length);
                        r.CopyTo(targetR!.Data.AsSpan(slot, length));
                        rDual.CopyTo(dualR!.Data.AsSpan(slot, length));
                        SeedFactory.Contrast(r, rDual, dest, signed!.Data.AsSpan(slot, length));
                        break;
                    case ExplainMethod.GradientInput:
                        System.Numerics.Tensors.TensorPrimitives.Multiply(r, batch.Row(img), dest);
                        break;
                    default:
                        r.CopyTo(dest);
                        break;
                }
            }
        }

        string rules = _options.Method.IsGradient() ? "gradient" : _composite.Name;
        return new Explanation(_options.Method, rules, final, logits, targets, k, targetR, dualR, signed, diagnostics, _capture.Provider)
        {
            ForwardTime = forwardTime,
            WalkTime = System.Diagnostics.Stopwatch.GetElapsedTime(walkStarted),
            Profile = profiler is null ? null : new WalkProfile(forwardTime, profiler.Steps),
        };
    }

    private Tensor ValidateInput(Tensor input)
    {
        IReadOnlyList<long?>? dims = _plan.Input.Dimensions;
        Tensor batch = input;
        if (dims is not null && input.Rank == dims.Count - 1)
        {
            batch = input.Reshape([1, .. input.Shape]);
        }

        if (dims is not null)
        {
            bool matches = batch.Rank == dims.Count && batch.Shape[0] >= 1;
            for (int d = 1; matches && d < dims.Count; d++)
            {
                matches = dims[d] is null || dims[d] == batch.Shape[d];
            }

            if (!matches)
            {
                throw new InvalidInputException($"input has shape {input.ShapeText}; model '{_plan.Graph.Source}' expects '{_plan.Input.Name}' {_plan.Input.ShapeText} (with or without the batch axis).");
            }
        }

        if (batch.Length == 0)
        {
            throw new InvalidInputException($"input {input.ShapeText} is empty.");
        }

        if (!batch.AllFinite())
        {
            int bad = Array.FindIndex(batch.Data, v => !float.IsFinite(v));
            throw new InvalidInputException($"input holds {batch.Data[bad]} at flat index {bad}; NaN and ±Inf cannot be explained.");
        }

        return batch;
    }

    private int ValidateLogits(Tensor logits, int n)
    {
        bool classifier = logits.Rank >= 1 && logits.Shape[0] == n && logits.Shape.Skip(2).All(d => d == 1);
        if (!classifier)
        {
            throw new InvalidGraphException($"{_plan.Graph.Source}: the explained output '{_plan.Logits}' has shape {logits.ShapeText}; expected class scores [N,K] (or [N,K,1,1]). Use --output to name another tensor.");
        }

        if (!logits.AllFinite())
        {
            throw new InvalidGraphException($"{_plan.Graph.Source}: the model produced NaN/Inf logits in '{_plan.Logits}' for this input.");
        }

        return logits.RowLength;
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (!_guard.TryBeginDispose())
        {
            return;
        }

        _capture.Dispose();
        _plan.Dispose();
        _pool.Clear();
    }
}
