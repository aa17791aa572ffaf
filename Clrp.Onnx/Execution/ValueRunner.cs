using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Runs a model forward and returns one named value of its graph, graph output or not: typically the logits
/// in front of a final Softmax, which <see cref="ModelRunner"/> cannot return because ONNX Runtime only hands
/// out graph outputs. Only that value is added as an output (the augmented-model technique of the activation
/// capture), so a run costs about what the plain forward pass costs. Perturbation studies (ablation curves)
/// run it thousands of times where a full explanation would be far too slow. A quantised model runs as the float
/// network it simulates, as the explainer does.
/// </summary>
public sealed class ValueRunner : IDisposable
{
    // ObjectDisposedException after Dispose, which waits for runs in flight.
    private readonly Explaining.DisposalGuard _guard = new(nameof(ValueRunner));

    private readonly ActivationCapture _capture;

    private ValueRunner(ActivationCapture capture, string valueName)
    {
        _capture = capture;
        ValueName = valueName;
    }

    /// <summary>The value <see cref="Run"/> returns.</summary>
    public string ValueName { get; }

    /// <summary>The execution provider in use ("CPU" or "CUDA:id").</summary>
    public string Provider => _guard.Checked(_capture.Provider);

    /// <summary>Opens <paramref name="modelPath"/> to return <paramref name="valueName"/> for its single float input.</summary>
    /// <param name="modelPath">The ONNX model.</param>
    /// <param name="valueName">A value some node produces, e.g. <c>ClrpExplainer.LogitsName</c>.</param>
    /// <param name="device">Where ONNX Runtime runs (CUDA falls back as <see cref="Device.FallbackToCpu"/> says).</param>
    /// <param name="log">Receives the CUDA fallback note, if any.</param>
    /// <exception cref="ModelLoadException">Missing or corrupt model file.</exception>
    /// <exception cref="InvalidGraphException">No float input, or no node produces <paramref name="valueName"/>.</exception>
    public static ValueRunner Open(string modelPath, string valueName, Device device, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(valueName);
        // A quantised model runs as the float network the explainer explains, whose values (e.g. its logits) these are.
        OnnxGraph graph = Canonizers.DequantizeModel.Apply(OnnxModelReader.Read(modelPath), out _);
        ValueInfo input = ImageInput.Find(graph);
        if (graph.Producer(valueName) is null)
        {
            throw new InvalidGraphException($"{graph.Source}: no node produces '{valueName}'; name a value of the graph.");
        }

        return new ValueRunner(new ActivationCapture(graph, input, [valueName], device, log), valueName);
    }

    /// <summary>Runs <paramref name="input"/> ([N, …], as the model takes it) and returns the value, [N, …].</summary>
    public Tensor Run(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using Explaining.DisposalGuard.Lease lease = _guard.Enter();
        return _capture.Run(input)[ValueName];
    }

    /// <summary>Releases the ONNX Runtime session.</summary>
    public void Dispose()
    {
        if (_guard.TryBeginDispose())
        {
            _capture.Dispose();
        }
    }
}
