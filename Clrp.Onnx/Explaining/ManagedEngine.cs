using Clrp.Onnx.Algebra;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Operators;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// The managed engine, the reference the compiled graph is tested against: one ONNX Runtime run captures the activations
/// (and the rule denominators, <see cref="ForwardDenominators"/>), then the shared <see cref="RelevanceWalker"/> computes
/// the backward walk through the <see cref="EagerAlgebra"/>, seeds in chunks that fit <see cref="ExplainerOptions.MaxWalkBytes"/>.
/// CLRP duals are walked explicitly (2k rows per image). Thread-safe: each call has its own algebra; the pool and kernels are concurrent.
/// </summary>
internal sealed class ManagedEngine : IExplanationEngine
{
    private readonly ExplanationPlan _plan;
    private readonly ActivationCapture _capture;
    private readonly ExplainerOptions _options;
    private readonly Composite _composite;
    private readonly PlanContext _context;
    private readonly BufferPool _pool;

    private ManagedEngine(ExplanationPlan plan, ActivationCapture capture, ExplainerOptions options, Composite composite, PlanContext context)
    {
        _plan = plan;
        _capture = capture;
        _options = options;
        _composite = composite;
        _context = context;
        _pool = new BufferPool(MemoryBudget.PoolCapacity(options));
    }

    public string Name => "managed";

    public string Provider => _capture.Provider;

    /// <summary>Opens the capture session; with a static input shape its graph also computes every rule denominator.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="options">The explainer's options.</param>
    /// <param name="composite">The rules in effect.</param>
    /// <param name="shapes">Per-image shapes of the walk's values when known (static input), else null.</param>
    public static ManagedEngine Create(ExplanationPlan plan, ExplainerOptions options, Composite composite, IReadOnlyDictionary<string, int[]>? shapes)
    {
        PlanContext context = ContextFor(plan, options, composite, denominators: null);
        ForwardDenominators denominators = options.Method.IsGradient() || !options.DenominatorsInCapture || shapes is null
            ? ForwardDenominators.None
            : ForwardDenominators.Build(plan, context, name => shapes[name]);
        string[] captured = [.. plan.CapturedValues.Concat(denominators.Values).Concat(LayerOutputsRead(plan, context)).Distinct(StringComparer.Ordinal)];
        var capture = new ActivationCapture(plan.Graph, plan.Input, captured, options.Device, options.Log, denominators.Nodes, denominators.Initializers)
        {
            ShrinkArenaAfterRun = options.MaxMemoryBytes is not null,
        };
        return new ManagedEngine(plan, capture, options, composite, ContextFor(plan, options, composite, denominators.ValuesByNode));
    }

    /// <summary>The outputs of linear layers whose rule reads the layer itself as a denominator (ε, LRP-0 on exact layers).</summary>
    private static IEnumerable<string> LayerOutputsRead(ExplanationPlan plan, PlanContext context) =>
        context.Mode == PropagationMode.Gradient ? [] : plan.WalkNodes
            .Where(n => plan.Propagators[n.Name] is ILinearPropagator && context.Rules.ContainsKey(n.Name))
            .SelectMany(n => LinearPropagation.LayerOutputParts(n, context.RuleFor(n), ((ILinearPropagator)plan.Propagators[n.Name]).Layer, context))
            .OfType<string>();

    /// <summary>The plan context of <paramref name="options"/>: mode, rules, Norm rule, bounds policy, CLRP2's negated layer.</summary>
    private static PlanContext ContextFor(ExplanationPlan plan, ExplainerOptions options, Composite composite, IReadOnlyDictionary<string, string?[]>? denominators) =>
        PlanContexts.For(plan, options.Method, composite, options.Bounds, denominators);

    public Explanation Explain(Tensor batch, Target target)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Dictionary<string, Tensor> activations = _capture.Run(batch, _pool);
        TimeSpan forwardTime = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Tensor logits = activations[_plan.Logits];
        int n = batch.Shape[0];
        int classes = ExplainerChecks.ValidateLogits(_plan, logits, n);
        var logits2d = logits.Reshape(n, classes);

        SeedBatch layout = SeedBatch.Explicit(_options.Method, target.Count);
        int[] targets = ExplainerChecks.ResolveTargets(target, logits2d, n);
        var seeds = new Tensor(n * layout.RowsPerImage, classes);
        var rowImage = new int[seeds.Shape[0]];
        int[]? negated = _options.Method == ExplainMethod.Clrp2 ? Enumerable.Repeat(-1, rowImage.Length).ToArray() : null;
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < layout.RowsPerImage; s++)
            {
                int row = (img * layout.RowsPerImage) + s;
                bool dual = layout.IsDual(s);
                int j = targets[(img * layout.K) + layout.TargetOf(s)];
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
        Tensor atInput = WalkInChunks(activations, seeds, rowImage, negated, n, profiler);
        Explanation explanation = Assemble(batch, atInput, seeds, logits2d, targets, layout, forwardTime, walkStarted, profiler);
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

    private Tensor WalkInChunks(Dictionary<string, Tensor> activations, Tensor seeds, int[] rowImage, int[]? negated, int images, WalkProfiler? profiler)
    {
        int rows = seeds.Shape[0];
        long perRow = EstimateBytesPerRow(activations);
        if (perRow > _options.MaxWalkBytes)
        {
            throw new ResourceLimitException($"one seed needs about {perRow >> 20} MiB in the backward walk, more than the {_options.MaxWalkBytes >> 20} MiB budget (ExplainerOptions.MaxWalkBytes).");
        }

        int chunk = (int)Math.Clamp(_options.MaxWalkBytes / perRow, 1, rows);
        int[] inputRow = activations[_plan.Input.Name].Shape[1..];
        var result = new Tensor([rows, .. inputRow]);
        for (int start = 0; start < rows; start += chunk)
        {
            int count = Math.Min(chunk, rows - start);
            var chunkSeeds = new Tensor(seeds.Data.AsSpan(start * seeds.RowLength, count * seeds.RowLength).ToArray(), [count, seeds.Shape[1]]);
            var alg = new EagerAlgebra(activations, rowImage[start..(start + count)], images, negated?[start..(start + count)], _pool,
                profiler is null ? null : profiler.Add);
            RelValue atInput = RelevanceWalker.Walk(_plan, alg, _context, alg.RowsOf(chunkSeeds), new Observer(alg, profiler));
            Tensor part = EagerAlgebra.TensorOf(atInput);
            part.Data.AsSpan(0, count * result.RowLength).CopyTo(result.Data.AsSpan(start * result.RowLength));
            alg.Recycle([]);
        }

        return result;
    }

    /// <summary>Bytes one relevance row may hold at once: the largest activation a few times over (relevance, quotient, gradient, result).</summary>
    private static long EstimateBytesPerRow(Dictionary<string, Tensor> activations) =>
        activations.Values.Max(t => (long)t.RowLength) * sizeof(float) * 6;

    private Explanation Assemble(Tensor batch, Tensor atInput, Tensor seeds, Tensor logits, int[] targets, SeedBatch layout, TimeSpan forwardTime, long walkStarted, WalkProfiler? profiler)
    {
        int n = batch.Shape[0], k = layout.K, perImage = layout.RowsPerImage;
        int length = batch.RowLength;
        var final = new Tensor([n, k, .. batch.Shape[1..]]);
        Tensor? targetR = null, dualR = null, signed = null;
        var diagnostics = new List<SeedDiagnostics>(n * perImage);
        for (int img = 0; img < n; img++)
        {
            for (int s = 0; s < perImage; s++)
            {
                int row = (img * perImage) + s;
                diagnostics.Add(new SeedDiagnostics(img, targets[(img * k) + layout.TargetOf(s)], layout.IsDual(s) ? "dual" : "target",
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
        ExplainerChecks.ValidateRelevance(final, _plan.Graph.Source, _options.Method, rules);
        return new Explanation(_options.Method, rules, final, logits, targets, k, targetR, dualR, signed, diagnostics, _capture.Provider,
            _plan.ChannelsLast && final.Rank == 5 ? Explanation.ChannelsLastSum(final) : null)
        {
            Engine = Name,
            ForwardTime = forwardTime,
            WalkTime = System.Diagnostics.Stopwatch.GetElapsedTime(walkStarted),
            Profile = profiler is null ? null : new WalkProfile(forwardTime, profiler.Steps),
        };
    }

    public void Dispose()
    {
        _capture.Dispose();
        _pool.Clear();
    }

    /// <summary>Times nodes for profiles and hands spent buffers back to the pool after each node.</summary>
    private sealed class Observer(EagerAlgebra alg, WalkProfiler? profiler) : IWalkObserver
    {
        public void Enter(Node node) => profiler?.Enter(node.Name, node.OpType);

        public void Leave(Node node, IEnumerable<RelValue> pending)
        {
            profiler?.Leave();
            alg.Recycle(pending);
        }
    }
}
