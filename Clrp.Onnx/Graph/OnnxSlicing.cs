namespace Clrp.Onnx.Graph;

/// <summary>The index arithmetic of ONNX Slice, shared by the Slice propagator and the constant folder.</summary>
internal static class OnnxSlicing
{
    /// <summary>
    /// The indices one axis of length <paramref name="dim"/> keeps: <c>start + k·step</c> for k in [0, ⌈(end − start)/step⌉),
    /// where negative starts/ends count from the end and are clamped as ONNX says ([0, dim] for step &gt; 0,
    /// [−1, dim − 1] for step &lt; 0).
    /// </summary>
    public static int[] Indices(long start, long end, long step, int dim)
    {
        if (step == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(step), "Slice steps must be non-zero.");
        }

        start = start < 0 ? start + dim : start;
        end = end < 0 ? end + dim : end;
        (start, end) = step > 0 ? (Math.Clamp(start, 0, dim), Math.Clamp(end, 0, dim)) : (Math.Clamp(start, 0, dim - 1), Math.Clamp(end, -1, dim - 1));
        long count = Math.Max(0, (end - start + step + (step > 0 ? -1 : 1)) / step);
        var indices = new int[count];
        for (int k = 0; k < count; k++)
        {
            indices[k] = (int)(start + (k * step));
        }

        return indices;
    }

    /// <summary>Axis <paramref name="axis"/> in [−rank, rank) made non-negative, or null when outside.</summary>
    public static int? NormalizeAxis(long axis, int rank) => axis >= -rank && axis < rank ? (int)(axis < 0 ? axis + rank : axis) : null;
}
