using BenchmarkDotNet.Attributes;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;

namespace Clrp.Benchmarks;

/// <summary>
/// End to end on the committed fashion-vgg model (28×28, 0.9 MB), for each engine (the compiled ONNX graph and the managed
/// walk): the plain ORT forward pass against one explanation per method, one class, and LRP and CLRP1 for the top-10
/// classes and LRP for a batch of 8 (per call, i.e. 8 images).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ExplainBenchmarks
{
    private ModelRunner _forward = null!;
    private Dictionary<ExplainMethod, ClrpExplainer> _explainers = null!;

    /// <summary>The engine under test.</summary>
    [Params(ExplainerEngine.Compiled, ExplainerEngine.Managed)]
    public ExplainerEngine Engine { get; set; }
    private Tensor _one = null!;
    private Tensor _eight = null!;

    [GlobalSetup]
    public void Setup()
    {
        string model = Path.Combine(AppContext.BaseDirectory, "models", "fashion-vgg.onnx");
        _one = NpyFile.Read(Path.Combine(AppContext.BaseDirectory, "models", "fashion-vgg-input.npy"));
        var data = new float[_one.Length * 8];
        for (int i = 0; i < 8; i++)
        {
            _one.Data.CopyTo(data, i * _one.Length);
        }

        _eight = new Tensor(data, [8, .. _one.Shape[1..]]);
        _forward = ModelRunner.Open(model, Device.Cpu);
        _explainers = Enum.GetValues<ExplainMethod>().ToDictionary(m => m, m => ClrpExplainer.Load(model, new ExplainerOptions { Method = m, Engine = Engine }));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _forward.Dispose();
        foreach (ClrpExplainer e in _explainers.Values)
        {
            e.Dispose();
        }
    }

    [Benchmark(Baseline = true)]
    public Tensor Forward() => _forward.Run(_one);

    [Benchmark]
    [Arguments(ExplainMethod.Lrp)]
    [Arguments(ExplainMethod.Clrp1)]
    [Arguments(ExplainMethod.Clrp2)]
    [Arguments(ExplainMethod.Sglrp)]
    [Arguments(ExplainMethod.Gradient)]
    public Explanation Explain(ExplainMethod method) => _explainers[method].Explain(_one);

    [Benchmark]
    public Explanation LrpTop10() => _explainers[ExplainMethod.Lrp].Explain(_one, Target.TopK(10));

    [Benchmark]
    public Explanation Clrp1Top10() => _explainers[ExplainMethod.Clrp1].Explain(_one, Target.TopK(10));

    [Benchmark]
    public Explanation LrpBatch8() => _explainers[ExplainMethod.Lrp].Explain(_eight);
}
