using System.Collections.Concurrent;
using Clrp.Onnx.Compiling;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Planning;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// Explains an ONNX classifier's decisions with LRP, CLRP1, CLRP2, SGLRP or gradient baselines.
/// <see cref="Load"/> reads and validates the model (unsupported operators fail here, not mid-walk) and prepares an engine
/// (DESIGN §2): by default the <b>compiled</b> one, a single ONNX graph — the model's forward, the rule denominators, the
/// relevance pass, the seeds and the method's map — that ONNX Runtime runs on its device; where a model cannot be compiled,
/// the <b>managed</b> walk (ONNX Runtime forward, managed backward), with one log line. Graphs are specialised to the
/// input's per-image shape and the number of classes per image; the first of each is compiled when first needed (at load
/// for a model with a fixed input size).
/// Thread safety: <see cref="Explain(Tensor, Target?)"/> may be called from several threads at once.
/// </summary>
public sealed class ClrpExplainer : IDisposable
{
    private readonly PlanSource _planSource;
    private readonly ExplainerOptions _options;
    private readonly Composite _composite;
    private readonly ConcurrentDictionary<string, Lazy<IExplanationEngine>> _engines = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Dictionary<string, int[]>>> _shapes = new(StringComparer.Ordinal);
    private readonly Lazy<ManagedEngine> _managed;
    private readonly int[]? _declaredShape;
    private readonly ValueInfo _input;
    private readonly string _logits;
    private readonly string _source;
    private readonly IReadOnlyList<NodeReport> _report;
    private readonly IReadOnlyList<string> _probed;
    private readonly LoadTimes _times;
    private readonly string _modelPath;
    private readonly string _signature;
    private readonly GraphCache? _cache;
    private int _fallbackLogged;

    // ObjectDisposedException after Dispose; Dispose waits for explanations in flight (issue 12).
    private readonly DisposalGuard _guard = new(nameof(ClrpExplainer));

    // ORT failures while running become ModelRunException naming the node of the file (issue 12).
    private readonly OrtFailures _failures;

    // ExplainerOptions.MaxMemoryBytes: requests that cannot fit are refused before anything runs (issue 12).
    private readonly MemoryBudget _budget;

    private ClrpExplainer(string modelPath, ExplanationPlan plan, ExplainerOptions options, Composite composite, LoadTimes times)
    {
        _times = times;
        _modelPath = modelPath;
        _signature = CompileSignature.Of(plan, options.Method, options.DualSeed, composite, options.Bounds);
        _cache = options.CacheDirectory is { Length: > 0 } dir ? new GraphCache(dir) : null;
        _planSource = new PlanSource(modelPath, plan, options.OutputName, composite);
        _options = options;
        _composite = composite;
        _input = plan.Input;
        _logits = plan.Logits;
        _source = plan.Graph.Source;
        _report = plan.Report;
        _probed = plan.ProbedValues;
        _declaredShape = ShapeProbe.DeclaredImageShape(plan.Input);
        _failures = new OrtFailures(plan.Original.Model, plan.Graph.Source);
        _budget = new MemoryBudget(options.MaxMemoryBytes);
        _managed = new Lazy<ManagedEngine>(() =>
        {
            Dictionary<string, int[]>? shapes = _declaredShape is null ? null : ShapesFor(_declaredShape);
            return _times.Time("managed engine", () => ManagedEngine.Create(_planSource.Pin(), _options, _composite, shapes));
        });
    }

    /// <summary>The model's image input as declared (name, element type, shape with '?' for dynamic axes).</summary>
    public ValueInfo Input => _guard.Checked(_input);

    /// <summary>The value seeds are placed on (the logits).</summary>
    public string LogitsName => _guard.Checked(_logits);

    /// <summary>The options in effect.</summary>
    public ExplainerOptions Options => _guard.Checked(_options);

    /// <summary>ONNX Runtime's execution provider ("CPU" or "CUDA:id") of the engine for the model's declared input size.</summary>
    public string ExecutionProvider => _guard.Checked(DefaultEngine?.Provider ?? _options.Device.ToString());

    /// <summary>"compiled" or "managed": the engine explaining inputs of the model's declared size ("pending" until the first explanation of a model with a free input size).</summary>
    public string Engine => _guard.Checked(DefaultEngine?.Name ?? "pending");

    /// <summary>Where preparing this explainer's engines took its time, phase by phase (reading, planning, compiling, sessions).</summary>
    public IReadOnlyList<LoadPhase> LoadTimes => _guard.Checked(_times.Phases);

    /// <summary>Per node: its rule, "propagates", "constant", … (what <c>clrp info</c> prints).</summary>
    public IReadOnlyList<NodeReport> Nodes => _guard.Checked(_report);

    private IExplanationEngine? DefaultEngine => _declaredShape is null ? null : EngineFor(_declaredShape, 1);

    /// <summary>Loads and validates <paramref name="modelPath"/>.</summary>
    /// <exception cref="ModelLoadException">Missing, empty, truncated or corrupt file.</exception>
    /// <exception cref="InvalidGraphException">Malformed graph or no float image input.</exception>
    /// <exception cref="UnsupportedOperatorException">An operator on the explained path has no propagator.</exception>
    /// <exception cref="CompilationException">With <see cref="ExplainerEngine.Compiled"/>: the model cannot be compiled.</exception>
    /// <exception cref="DeviceUnavailableException">CUDA requested without fallback and not loadable.</exception>
    public static ClrpExplainer Load(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        var times = new LoadTimes();
        OnnxGraph graph = times.Time("read", () => OnnxModelReader.Read(modelPath));
        Composite composite = options.EffectiveRules;
        ExplanationPlan plan = times.Time("plan", () => ExplanationPlan.Build(graph, options.OutputName, composite, strict: true));
        var explainer = new ClrpExplainer(modelPath, plan, options, composite, times);
        try
        {
            explainer.CheckMethod(plan, modelPath);
            _ = explainer.DefaultEngine; // a fixed-size model gets its engine (and any load error) now
            return explainer;
        }
        catch (ShapeProbeException e)
        {
            explainer.Dispose();
            throw explainer.Typed(e, [1, .. explainer._declaredShape ?? []]);
        }
        catch
        {
            explainer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads <paramref name="modelPath"/> and reports every node's role without running an explanation and
    /// without throwing for unsupported operators (they are listed as such). File and graph errors still throw.
    /// </summary>
    /// <remarks>
    /// Most models are inspected from the file alone. A model whose graph computes sizes from an activation's shape
    /// (Shape → Gather → Div → Slice, as exporters write for <c>x.chunk</c> or <c>view(x.size(0), -1)</c>) is folded by
    /// asking ONNX Runtime for the shapes: a session on the weightless model, and, where inference leaves an axis
    /// open, one run over zeros at batch 1 and 2. That is the same folding <see cref="Load(string, ExplainerOptions?)"/>
    /// does, so Inspect and Load agree on which nodes are explained.
    /// </remarks>
    public static ModelReport Inspect(string modelPath, ExplainerOptions? options = null)
    {
        options ??= new ExplainerOptions();
        OnnxGraph graph = OnnxModelReader.Read(modelPath);
        using ExplanationPlan plan = ExplanationPlan.Build(graph, options.OutputName, options.EffectiveRules, strict: false);
        return new ModelReport(graph.Source, plan.Input, plan.ExplainedOutput, plan.Logits, graph.Opsets, plan.Report, plan.FirstLinear?.Name, plan.LogitLayer?.Name)
        {
            Quantisation = plan.Quantisation?.ToString(),
        };
    }

    /// <summary>Explains <paramref name="input"/>, shaped like the model input ([N, C, H, W]) or without the batch axis.</summary>
    /// <param name="input">The preprocessed input, float32.</param>
    /// <param name="target">Class, <see cref="Target.Predicted"/> (default) or <see cref="Target.TopK"/>.</param>
    /// <exception cref="InvalidInputException">Wrong shape, NaN or ±Inf.</exception>
    /// <exception cref="InvalidTargetException">A class outside [0, K).</exception>
    public Explanation Explain(Tensor input, Target? target = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        using DisposalGuard.Lease lease = _guard.Enter();
        target ??= Target.Predicted;
        Tensor batch = ValidateInput(input);
        try
        {
            RequestLimits.CheckTargets(target, () => ClassCount(batch.Shape[1..]));
            _budget.Check(batch, target, _options.Method, () => ProbedShapes(batch.Shape[1..]));
            return EngineFor(batch.Shape[1..], target.Count).Explain(batch, target);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw _failures.Translate(e, batch.Shape);
        }
        catch (ShapeProbeException e)
        {
            throw Typed(e, batch.Shape);
        }
    }

    /// <summary>
    /// What a failed shape probe means to the caller: the typed error it wraps (the model refused at load by ORT's shape
    /// inference, an ORT failure naming the node) — ShapeProbeException itself is internal and no ClrpException.
    /// </summary>
    private Exception Typed(ShapeProbeException e, IReadOnlyList<int> shape) => e.InnerException switch
    {
        ClrpException typed => typed,
        Microsoft.ML.OnnxRuntime.OnnxRuntimeException ort => _failures.Translate(ort, shape),
        _ => new InvalidGraphException(e.Message),
    };

    /// <summary>K from the probed shape of the logits for this input size (the probe runs once per size), or null.</summary>
    private int? ClassCount(int[] imageShape) =>
        ProbedShapes(imageShape).TryGetValue(_logits, out int[]? logits) ? logits.Aggregate(1, (a, b) => a * b) : null;

    /// <summary>The probed shapes for this input size, or none when the probe fails (the engine then reports why).</summary>
    private IReadOnlyDictionary<string, int[]> ProbedShapes(int[] imageShape)
    {
        try
        {
            return ShapesFor(imageShape);
        }
        catch (ShapeProbeException)
        {
            return new Dictionary<string, int[]>();
        }
    }

    /// <summary>Explains a flat buffer of shape <paramref name="shape"/>.</summary>
    public Explanation Explain(float[] input, int[] shape, Target? target = null) => Explain(new Tensor(input, shape), target);

    /// <summary>
    /// Compiles the explainer of <paramref name="modelPath"/> under <paramref name="options"/> and writes it to
    /// <paramref name="path"/>: a standalone ONNX model — the model's forward, the relevance pass and the method's map — that
    /// any ONNX Runtime runs (Python, Node, the browser, mobile), with the inputs and outputs of <see cref="CompiledNames"/>.
    /// Its targets input takes k classes per image (−1, …, −k for the top k).
    /// </summary>
    /// <param name="modelPath">The classifier.</param>
    /// <param name="path">Where to write the explainer model.</param>
    /// <param name="options">Method, rules, bounds, dual seed and explained output (Engine and Device are not used).</param>
    /// <param name="targetsPerImage">k, the classes explained per image.</param>
    /// <param name="imageShape">The per-image input shape; default the model's declared one.</param>
    /// <returns>What was written.</returns>
    /// <exception cref="CompilationException">The model cannot be compiled.</exception>
    public static ExportSummary Export(string modelPath, string path, ExplainerOptions? options = null, int targetsPerImage = 1, int[]? imageShape = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= new ExplainerOptions();
        if (targetsPerImage < 1)
        {
            throw new InvalidOptionsException($"an exported explainer explains k ≥ 1 classes per image, got {targetsPerImage}.");
        }

        OnnxGraph graph = OnnxModelReader.Read(modelPath);
        Composite composite = options.EffectiveRules;
        ExplanationPlan plan = ExplanationPlan.Build(graph, options.OutputName, composite, strict: true);
        using var explainer = new ClrpExplainer(modelPath, plan, new ExplainerOptions
        {
            Method = options.Method, Rules = options.Rules, Bounds = options.Bounds, DualSeed = options.DualSeed, OutputName = options.OutputName,
            Log = options.Log, Engine = ExplainerEngine.Compiled,
        }, composite, new LoadTimes());
        explainer.CheckMethod(plan, modelPath);
        int[] shape = imageShape ?? explainer._declaredShape
            ?? throw new InvalidOptionsException($"'{plan.Input.Name}' has a free size {plan.Input.ShapeText}; give the per-image input size to export for (--size).");
        if (explainer._declaredShape is { } declared && declared.Length != shape.Length)
        {
            throw new InvalidOptionsException($"the export size {Tensor.FormatShape(shape)} has another rank than the model's input {plan.Input.ShapeText} (per image).");
        }

        CompiledGraph compiled = explainer.Compile(shape, targetsPerImage);
        IO.AtomicFile.Write(path, stream => stream.Write(compiled.Model));
        return new ExportSummary(path, plan.Input.Name, shape, compiled.Classes, targetsPerImage, compiled.Nodes, compiled.Model.LongLength, options.Method, compiled.Request.Method.IsGradient() ? "gradient" : composite.Name);
    }

    private void CheckMethod(ExplanationPlan plan, string modelPath)
    {
        if (plan.Quantisation is not null)
        {
            _options.Log?.Invoke($"note: {modelPath}: {plan.Quantisation}");
        }

        if (_options.Method != ExplainMethod.Clrp2)
        {
            return;
        }

        if (plan.LogitLayer is null)
        {
            throw new InvalidGraphException($"{modelPath}: CLRP2 needs the linear layer that computes '{plan.Logits}', but the logits are not reached from one through single-input operators; use clrp1.");
        }

        if (plan.Rules[plan.LogitLayer.Name] is EpsilonRule)
        {
            _options.Log?.Invoke($"warning: composite '{_composite.Name}' puts the ε rule on the logit layer '{plan.LogitLayer.Name}'; CLRP2's dual then equals the target map and the CLRP2 map is ~0. Use --rules paper.");
        }
    }

    /// <summary>The engine for inputs of <paramref name="imageShape"/> explained for k classes each, created on first use.</summary>
    private IExplanationEngine EngineFor(int[] imageShape, int k)
    {
        // Profiles time the managed walk's steps; the compiled graph runs as one.
        if (_options.Engine == ExplainerEngine.Managed || (_options.Engine == ExplainerEngine.Auto && _options.Profile))
        {
            return _managed.Value;
        }

        string key = Tensor.FormatShape(imageShape) + "|" + k.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return _engines.GetOrAdd(key, _ => new Lazy<IExplanationEngine>(() => CreateEngine(imageShape, k), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
    }

    private IExplanationEngine CreateEngine(int[] imageShape, int k)
    {
        try
        {
            bool batchFixedToOne = _input.Dimensions is { Count: > 0 } d && d[0] == 1;
            string? key = _cache is null ? null : _times.Time("cache key", () => _cache.Key(_modelPath, _signature + $"k={k};shape={Tensor.FormatShape(imageShape)}"));
            if (key is not null && _cache!.TryGet(key, out string path, out string? optimized, out CachedGraphInfo info))
            {
                var request = new CompileRequest(_options.Method, _options.DualSeed, _composite, _options.Bounds, k, imageShape);
                var cached = new CompiledGraph([], request, new SeedBatch(info.TargetsPerImage, info.RowsPerImage, info.ExplicitDuals), info.Classes, info.InputName, info.Nodes);
                SessionInput input = !_options.Device.IsCuda && optimized is not null ? new SessionInput(null, optimized, PreOptimized: true) : new SessionInput(null, path);
                _planSource.Release();
                return _times.Time("session (cached)", () => CompiledEngine.Open(cached, _options.Device, _options.Log, _source, batchFixedToOne, input));
            }

            CompiledGraph graph = Compile(imageShape, k);
            // The graph now lives in ONNX Runtime: the protobuf and the decoded weights are not needed until the next compile.
            _planSource.Release();
            string? saveOptimized = key is null ? null : _cache!.Put(key, graph, cpu: !_options.Device.IsCuda);
            return _times.Time("session", () => OpenSavingOptimized(graph, batchFixedToOne, saveOptimized));
        }
        catch (Exception e) when (_options.Engine == ExplainerEngine.Auto && e is CompilationException or ShapeProbeException)
        {
            if (Interlocked.Exchange(ref _fallbackLogged, 1) == 0)
            {
                _options.Log?.Invoke($"note: {_source}: explained by the managed engine: {e.Message}");
            }

            return _managed.Value;
        }
    }

    /// <summary>Opens the compiled graph; with a cache, ONNX Runtime writes its optimised graph beside it (moved in place once complete).</summary>
    private CompiledEngine OpenSavingOptimized(CompiledGraph graph, bool batchFixedToOne, string? saveOptimized)
    {
        string? temp = saveOptimized is null ? null : saveOptimized + $".{Environment.ProcessId}.tmp";
        try
        {
            CompiledEngine engine;
            try
            {
                engine = CompiledEngine.Open(graph, _options.Device, _options.Log, _source, batchFixedToOne, new SessionInput(graph.Model, null, temp));
            }
            catch (ModelLoadException) when (temp is not null)
            {
                // ONNX Runtime could not write its optimised graph (e.g. over protobuf's 2 GB): open without keeping it.
                engine = CompiledEngine.Open(graph, _options.Device, _options.Log, _source, batchFixedToOne);
            }

            if (temp is not null && File.Exists(temp))
            {
                File.Move(temp, saveOptimized!, overwrite: true);
            }

            return engine;
        }
        finally
        {
            if (temp is not null && File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private CompiledGraph Compile(int[] imageShape, int k)
    {
        try
        {
            Dictionary<string, int[]> shapes = ShapesFor(imageShape);
            var request = new CompileRequest(_options.Method, _options.DualSeed, _composite, _options.Bounds, k, imageShape);
            return _times.Time("compile", () => _planSource.Use(plan => ExplainerCompiler.Compile(plan, request, shapes)));
        }
        catch (ShapeProbeException e) when (_options.Engine != ExplainerEngine.Auto)
        {
            throw new CompilationException(e.Message, e);
        }
    }

    /// <summary>The per-image shapes of every value the walk reads, for one input size (probed once).</summary>
    private Dictionary<string, int[]> ShapesFor(int[] imageShape) =>
        _shapes.GetOrAdd(Tensor.FormatShape(imageShape), _ => new Lazy<Dictionary<string, int[]>>(
            () => _times.Time("shapes", () => _planSource.Use(plan => ShapeProbe.Run(plan.Original, plan.Input, imageShape, _probed))), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private Tensor ValidateInput(Tensor input)
    {
        IReadOnlyList<long?>? dims = _input.Dimensions;
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
                throw new InvalidInputException($"input has shape {input.ShapeText}; model '{_source}' expects '{_input.Name}' {_input.ShapeText} (with or without the batch axis).");
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

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        if (!_guard.TryBeginDispose())
        {
            return;
        }

        foreach (Lazy<IExplanationEngine> engine in _engines.Values)
        {
            if (engine.IsValueCreated && engine.Value is not ManagedEngine)
            {
                engine.Value.Dispose();
            }
        }

        if (_managed.IsValueCreated)
        {
            _managed.Value.Dispose();
        }

        _planSource.Dispose();
    }
}
