using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Which input elements each output element of Resize/Upsample reads, and with what weight, following ONNX Runtime's
/// CPU kernel (the forward oracle): per axis, the output coordinate o maps to <c>x = transform(o)</c> in float32, then
/// nearest picks one index by <c>nearest_mode</c> (clamped to the input), linear clamps x to [0, in−1] and blends
/// <c>⌊x⌋</c> and <c>⌊x⌋+1</c> with weights <c>1 − frac</c>, <c>frac</c>. Axes are separable: an output element's taps are
/// the products of its per-axis taps. Leading axes that are not resized (channels) are blocks the taps repeat over, so
/// the tables cover one H×W plane, not the whole image.
/// </summary>
internal sealed class ResizeGeometry
{
    private ResizeGeometry(int[] outShape, int blocks, int inBlock, int taps, int[] index, float[] weight)
    {
        OutShape = outShape;
        Blocks = blocks;
        InBlock = inBlock;
        Taps = taps;
        Index = index;
        Weight = weight;
    }

    /// <summary>The full output shape [N, …].</summary>
    public int[] OutShape { get; }

    /// <summary>Copies of the tables per image (the product of the leading axes that are not resized).</summary>
    public int Blocks { get; }

    /// <summary>Input elements per block.</summary>
    public int InBlock { get; }

    /// <summary>Output elements per block.</summary>
    public int OutBlock => Index.Length / Taps;

    /// <summary>Taps per output element.</summary>
    public int Taps { get; }

    /// <summary>[outElement·Taps + t]: the input element (within the block) tap t reads.</summary>
    public int[] Index { get; }

    /// <summary>[outElement·Taps + t]: the weight of tap t.</summary>
    public float[] Weight { get; }

    /// <param name="node">The Resize/Upsample node (for messages).</param>
    /// <param name="settings">Mode, coordinate transform, rounding.</param>
    /// <param name="inShape">The full input shape [N, …].</param>
    /// <param name="outShape">The full output shape [N, …].</param>
    /// <param name="scales">Per-axis scales used by the coordinate transform (out/in where the node gave sizes).</param>
    public static ResizeGeometry Build(Node node, ResizeSettings settings, int[] inShape, int[] outShape, float[] scales)
    {
        if (outShape[0] != inShape[0])
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"it resizes the batch axis ({Tensor.FormatShape(inShape)} → {Tensor.FormatShape(outShape)})");
        }

        int lead = 1;
        while (lead < inShape.Length && inShape[lead] == outShape[lead] && scales[lead] == 1f)
        {
            lead++;
        }

        int blocks = inShape[1..lead].Aggregate(1, (p, d) => p * d);
        int rank = inShape.Length - lead;
        int[] inRow = inShape[lead..], outRow = outShape[lead..];
        int[] inStrides = RouteGeometry.Strides(inRow);
        var axisIndex = new int[rank][][];
        var axisWeight = new float[rank][][];
        for (int a = 0; a < rank; a++)
        {
            (axisIndex[a], axisWeight[a]) = AxisTaps(settings, inRow[a], outRow[a], scales[a + lead]);
        }

        int taps = axisIndex.Aggregate(1, (t, axis) => t * (axis.Length == 0 ? 1 : axis[0].Length));
        int count = Tensor.CheckedCount(outRow);
        var index = new int[count * taps];
        var weight = new float[count * taps];
        var o = new int[rank];
        for (int j = 0; j < count; j++)
        {
            for (int t = 0; t < taps; t++)
            {
                // Tap t picks per axis one of that axis' taps (mixed radix over the axes).
                int rest = t, flat = 0;
                float w = 1f;
                for (int a = rank - 1; a >= 0; a--)
                {
                    int[] ai = axisIndex[a][o[a]];
                    int pick = rest % ai.Length;
                    rest /= ai.Length;
                    flat += ai[pick] * inStrides[a];
                    w *= axisWeight[a][o[a]][pick];
                }

                index[(j * taps) + t] = flat;
                weight[(j * taps) + t] = w;
            }

            for (int a = rank - 1; a >= 0 && ++o[a] == outRow[a]; a--)
            {
                o[a] = 0;
            }
        }

        return new ResizeGeometry(outShape, blocks, Tensor.CheckedCount(inRow), taps, index, weight);
    }

    /// <summary>Per output coordinate of one axis: the input coordinates it reads and their weights.</summary>
    private static (int[][] Index, float[][] Weight) AxisTaps(ResizeSettings s, int inDim, int outDim, float scale)
    {
        var index = new int[outDim][];
        var weight = new float[outDim][];
        bool identity = inDim == outDim && scale == 1f;
        for (int o = 0; o < outDim; o++)
        {
            if (identity)
            {
                (index[o], weight[o]) = ([o], [1f]);
                continue;
            }

            float x = Original(s.CoordinateTransform, o, scale, inDim, outDim);
            if (!s.Linear)
            {
                (index[o], weight[o]) = ([Math.Clamp(Nearest(s.NearestMode, x, scale < 1f), 0, inDim - 1)], [1f]);
                continue;
            }

            x = Math.Clamp(x, 0f, inDim - 1);
            int x1 = Math.Min((int)x, inDim - 1), x2 = Math.Min(x1 + 1, inDim - 1);
            float d1 = Math.Abs(x - x1), d2 = Math.Abs(x - x2);
            if (x1 == x2)
            {
                d1 = d2 = 0.5f;
            }

            (index[o], weight[o]) = ([x1, x2], [d2, d1]);
        }

        return (index, weight);
    }

    /// <summary>The input coordinate of output coordinate <paramref name="o"/> (ONNX <c>coordinate_transformation_mode</c>), in float32 as ORT computes it.</summary>
    private static float Original(string mode, int o, float scale, int inDim, int outDim) => mode switch
    {
        "half_pixel" => ((o + 0.5f) / scale) - 0.5f,
        "pytorch_half_pixel" => outDim > 1 ? ((o + 0.5f) / scale) - 0.5f : 0f,
        "align_corners" => outDim == 1 ? 0f : o * (float)(inDim - 1) / (outDim - 1),
        "asymmetric" => o / scale,
        "tf_half_pixel_for_nn" => (o + 0.5f) / scale,
        "half_pixel_symmetric" => HalfPixelSymmetric(o, scale, inDim, outDim),
        _ => throw new InvalidOperationException($"coordinate transform '{mode}' was not validated."),
    };

    private static float HalfPixelSymmetric(int o, float scale, int inDim, int outDim)
    {
        float adjustment = outDim / (scale * inDim);
        float center = inDim / 2f;
        float offset = center * (1f - adjustment);
        return offset + ((o + 0.5f) / scale) - 0.5f;
    }

    /// <summary>Rounds x to an index (<c>nearest_mode</c>; "simple" is opsets 7–10: truncate when upsampling, ceil when downsampling).</summary>
    private static int Nearest(string mode, float x, bool downsampling) => mode switch
    {
        "round_prefer_floor" => x == MathF.Floor(x) + 0.5f ? (int)MathF.Floor(x) : (int)MathF.Round(x, MidpointRounding.AwayFromZero),
        "round_prefer_ceil" => (int)MathF.Round(x, MidpointRounding.AwayFromZero),
        "floor" => (int)MathF.Floor(x),
        "ceil" => (int)MathF.Ceiling(x),
        "simple" => downsampling ? (int)MathF.Ceiling(x) : (int)x,
        _ => throw new InvalidOperationException($"nearest mode '{mode}' was not validated."),
    };
}

/// <summary>The interpolation a Resize/Upsample node asks for, validated at load.</summary>
/// <param name="Linear">Linear (true) or nearest (false).</param>
/// <param name="CoordinateTransform">ONNX <c>coordinate_transformation_mode</c> ("asymmetric" before opset 11).</param>
/// <param name="NearestMode">ONNX <c>nearest_mode</c>, or "simple" before opset 11.</param>
internal sealed record ResizeSettings(bool Linear, string CoordinateTransform, string NearestMode);
