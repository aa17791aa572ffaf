using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Tests.Support;

/// <summary>ONNX Runtime as the forward oracle: runs a model (bytes) on a float32 input and returns its first output.</summary>
internal sealed class OrtOracle : IDisposable
{
    private readonly InferenceSession _session;

    public OrtOracle(byte[] model)
    {
        // Opened through the library's factory on purpose: ORT's environment is a process-wide singleton, and
        // OrtSessionFactory creates it with options, which throws "OrtEnv singleton instance already exists" (and
        // caches that failure in its Lazy) when any plain InferenceSession was created first: a library issue reported
        // to the lead (an ML.NET ApplyOnnxModel session opened before the explainer would hit it too).
        (_session, _) = Clrp.Onnx.Execution.OrtSessionFactory.Create(model, Clrp.Onnx.Execution.Device.Cpu, "oracle", null);
    }

    /// <summary>Runs the model and returns the first output's data and shape.</summary>
    public (float[] Data, int[] Shape) Run(float[] input, int[] shape)
    {
        string inputName = _session.InputMetadata.Keys.First();
        using OrtValue value = OrtValue.CreateTensorValueFromMemory(input, Array.ConvertAll(shape, d => (long)d));
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [inputName], [value], [_session.OutputMetadata.Keys.First()]);
        OrtValue output = outputs[0];
        int[] outShape = Array.ConvertAll(output.GetTensorTypeAndShape().Shape, d => (int)d);
        return (output.GetTensorDataAsSpan<float>().ToArray(), outShape);
    }

    public static (float[] Data, int[] Shape) RunOnce(byte[] model, float[] input, int[] shape)
    {
        using var oracle = new OrtOracle(model);
        return oracle.Run(input, shape);
    }

    /// <summary>
    /// Central finite differences <c>∂y_j/∂x_i ≈ (y_j(x + h e_i) − y_j(x − h e_i)) / 2h</c> of ORT's forward for one
    /// image [1, …], all perturbed copies run as one batch (the model's batch axis must be symbolic).
    /// </summary>
    public double[] FiniteDifferenceGradient(float[] x, int[] shape, int j, float h)
    {
        int d = x.Length;
        var batch = new float[2 * d * d];
        for (int i = 0; i < d; i++)
        {
            x.CopyTo(batch, 2 * i * d);
            x.CopyTo(batch, ((2 * i) + 1) * d);
            batch[(2 * i * d) + i] += h;
            batch[(((2 * i) + 1) * d) + i] -= h;
        }

        (float[] y, int[] yShape) = Run(batch, [2 * d, .. shape[1..]]);
        int classes = y.Length / (2 * d);
        _ = yShape;
        var grad = new double[d];
        for (int i = 0; i < d; i++)
        {
            // The actual step is what float32 could represent.
            double step = (double)batch[(2 * i * d) + i] - batch[(((2 * i) + 1) * d) + i];
            grad[i] = ((double)y[(2 * i * classes) + j] - y[(((2 * i) + 1) * classes) + j]) / step;
        }

        return grad;
    }

    public void Dispose() => _session.Dispose();
}
