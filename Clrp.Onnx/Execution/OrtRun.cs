using Clrp.Onnx.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// The two ways ClrpMl runs an ONNX Runtime session on managed tensors, in one place: run and copy the outputs into
/// managed tensors (captures, plain forward passes), or run into tensors allocated beforehand (kernels whose output size
/// is known). Native values are disposed before returning.
/// </summary>
internal static class OrtRun
{
    /// <summary>Runs <paramref name="session"/> on <paramref name="input"/> and copies <paramref name="outputs"/> into managed tensors (from <paramref name="pool"/> when given).</summary>
    /// <param name="session">The session.</param>
    /// <param name="inputName">Its input.</param>
    /// <param name="input">The input tensor.</param>
    /// <param name="outputs">The outputs to return.</param>
    /// <param name="pool">Where the copies' buffers come from, or null.</param>
    /// <param name="configure">Sets run options (e.g. arena shrinkage), or null.</param>
    /// <param name="translate">Turns ONNX Runtime's failure into the exception to throw (naming the model's node), or null.</param>
    /// <exception cref="InvalidGraphException">An output is not float32.</exception>
    public static Dictionary<string, Tensor> RunAndCopy(InferenceSession session, string inputName, Tensor input, IReadOnlyList<string> outputs, BufferPool? pool = null,
        Action<RunOptions>? configure = null, Func<OnnxRuntimeException, Exception>? translate = null)
    {
        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(input.Data, Array.ConvertAll(input.Shape, d => (long)d));
        using var runOptions = new RunOptions();
        configure?.Invoke(runOptions);
        IDisposableReadOnlyCollection<OrtValue> run;
        try
        {
            run = session.Run(runOptions, [inputName], [inputValue], outputs);
        }
        catch (OnnxRuntimeException e) when (translate is not null)
        {
            throw translate(e);
        }

        using IDisposableReadOnlyCollection<OrtValue> values = run;
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < outputs.Count; i++)
        {
            OrtTensorTypeAndShapeInfo info = values[i].GetTensorTypeAndShape();
            if (info.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float)
            {
                throw new InvalidGraphException($"value '{outputs[i]}' is {info.ElementDataType}, not float32; ClrpMl explains float32 graphs.");
            }

            int[] dims = Array.ConvertAll(info.Shape, d => checked((int)d));
            Tensor copy = pool?.Rent(dims, clear: false) ?? new Tensor(dims);
            values[i].GetTensorDataAsSpan<float>().CopyTo(copy.Data);
            result[outputs[i]] = copy;
        }

        return result;
    }

    /// <summary>Runs <paramref name="session"/> ("X" → "Y") with both buffers bound in place: ONNX Runtime reads <paramref name="input"/> and writes <paramref name="output"/>.</summary>
    public static void RunInPlace(InferenceSession session, Tensor input, Tensor output)
    {
        using OrtValue inValue = OrtValue.CreateTensorValueFromMemory(input.Data, Array.ConvertAll(input.Shape, d => (long)d));
        using OrtValue outValue = OrtValue.CreateTensorValueFromMemory(output.Data, Array.ConvertAll(output.Shape, d => (long)d));
        using var options = new RunOptions();
        session.Run(options, ["X"], [inValue], ["Y"], [outValue]);
    }
}
