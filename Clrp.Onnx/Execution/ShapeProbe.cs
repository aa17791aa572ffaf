using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Execution;

/// <summary>
/// The per-image shape of every value an explanation reads, for one input size: the model runs once on ONNX Runtime (CPU)
/// over one image of zeros with those values as extra outputs. Emitted graphs are specialised to these shapes (pools'
/// windows, routes, reshapes), so a graph is compiled per input size; the batch axis stays free.
/// </summary>
internal static class ShapeProbe
{
    /// <summary>Runs the probe; throws <see cref="ShapeProbeException"/> when the model does not run on such an input.</summary>
    /// <param name="graph">The model (its protobuf still attached).</param>
    /// <param name="input">Its image input.</param>
    /// <param name="imageShape">The per-image input shape (without the batch axis).</param>
    /// <param name="values">The values whose shapes are wanted.</param>
    public static Dictionary<string, int[]> Run(OnnxGraph graph, ValueInfo input, int[] imageShape, IReadOnlyCollection<string> values)
    {
        try
        {
            using var capture = new ActivationCapture(graph, input, values, Device.Cpu, log: null);
            Dictionary<string, Tensor> outputs = capture.Run(new Tensor([1, .. imageShape]));
            return outputs.ToDictionary(kv => kv.Key, kv => kv.Value.Shape[1..], StringComparer.Ordinal);
        }
        catch (Exception e) when (e is Microsoft.ML.OnnxRuntime.OnnxRuntimeException or InvalidGraphException)
        {
            throw new ShapeProbeException($"{graph.Source}: the model does not run on one image of shape {Tensor.FormatShape(imageShape)} ({e.Message})", e);
        }
    }

    /// <summary>The per-image input shape the model declares, or null when an axis besides the batch is symbolic.</summary>
    public static int[]? DeclaredImageShape(ValueInfo input) =>
        input.Dimensions is { Count: >= 2 } dims && dims.Skip(1).All(d => d is > 0)
            ? dims.Skip(1).Select(d => checked((int)d!.Value)).ToArray()
            : null;
}

/// <summary>The shape probe could not run the model on the requested input size.</summary>
internal sealed class ShapeProbeException(string message, Exception inner) : Exception(message, inner);
