using System.Numerics.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>Small element-wise helpers over <see cref="TensorPrimitives"/>.</summary>
internal static class SpanExtensions
{
    /// <summary>span[i] += value.</summary>
    public static void Add(this Span<float> span, float value) => TensorPrimitives.Add(span, value, span);
}
