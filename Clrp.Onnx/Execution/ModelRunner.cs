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

    private ModelRunner(InferenceSession session, string provider, string inputName, OrtFailures failures)
    {
        _session = session;
        _failures = failures;
        Provider = provider;
        _inputName = inputName;
        _outputName = session.OutputMetadata.Keys.First();
    }

    /// <summary>The execution provider in use ("CPU" or "CUDA:id").</summary>
    public string Provider { get; }

    /// <summary>Opens <paramref name="modelPath"/> on <paramref name="device"/> (CUDA falls back as <see cref="Device.FallbackToCpu"/> says).</summary>
    public static ModelRunner Open(string modelPath, Device device, Action<string>? log = null)
    {
        // Same validation, messages and choice of the image input as the explainer.
        Graph.OnnxGraph graph = Graph.OnnxModelReader.Read(modelPath);
        string input = Graph.ImageInput.Find(graph).Name;
        (InferenceSession session, string provider) = OrtSessionFactory.Create(new SessionInput(null, modelPath), device, modelPath, log);
        return new ModelRunner(session, provider, input, new OrtFailures(graph.Model, modelPath));
    }

    /// <summary>Runs <paramref name="input"/> and returns the first graph output.</summary>
    public Tensor Run(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using Explaining.DisposalGuard.Lease lease = _guard.Enter();
        return OrtRun.RunAndCopy(_session, _inputName, input, [_outputName], translate: e => _failures.Translate(e, input.Shape))[_outputName];
    }

    public void Dispose()
    {
        if (_guard.TryBeginDispose())
        {
            _session.Dispose();
        }
    }
}
