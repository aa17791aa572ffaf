using Clrp.Onnx.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Runs a model exactly as written — no extra outputs — on the requested device: the baseline that
/// benchmarks compare explanations against (<c>clrp bench</c>).
/// </summary>
public sealed class ModelRunner : IDisposable
{
    // ObjectDisposedException after Dispose, which waits for runs in flight.
    private readonly Explaining.DisposalGuard _guard = new(nameof(ModelRunner));

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly OrtFailures _failures;

    private ModelRunner(InferenceSession session, string provider, OrtFailures failures)
    {
        _session = session;
        _failures = failures;
        Provider = provider;
        _inputName = session.InputMetadata.Keys.First();
        _outputName = session.OutputMetadata.Keys.First();
    }

    /// <summary>The execution provider in use ("CPU" or "CUDA:id").</summary>
    public string Provider { get; }

    /// <summary>Opens <paramref name="modelPath"/> on <paramref name="device"/> (CUDA falls back as <see cref="Device.FallbackToCpu"/> says).</summary>
    public static ModelRunner Open(string modelPath, Device device, Action<string>? log = null)
    {
        Graph.OnnxGraph graph = Graph.OnnxModelReader.Read(modelPath); // same validation and messages as the explainer
        (InferenceSession session, string provider) = OrtSessionFactory.Create(File.ReadAllBytes(modelPath), device, modelPath, log);
        return new ModelRunner(session, provider, new OrtFailures(graph.Model, modelPath));
    }

    /// <summary>Runs <paramref name="input"/> and returns the first graph output.</summary>
    public Tensor Run(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using Explaining.DisposalGuard.Lease lease = _guard.Enter();
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input.Data, Array.ConvertAll(input.Shape, d => (long)d));
        using var options = new RunOptions();
        IDisposableReadOnlyCollection<OrtValue> run;
        try
        {
            run = _session.Run(options, [_inputName], [value], [_outputName]);
        }
        catch (OnnxRuntimeException e)
        {
            throw _failures.Translate(e, input.Shape);
        }

        using IDisposableReadOnlyCollection<OrtValue> outputs = run;
        OrtValue output = outputs[0];
        int[] shape = Array.ConvertAll(output.GetTensorTypeAndShape().Shape, d => checked((int)d));
        return new Tensor(output.GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    public void Dispose()
    {
        if (_guard.TryBeginDispose())
        {
            _session.Dispose();
        }
    }
}
