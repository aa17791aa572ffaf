namespace Clrp.Onnx.Tensors;

/// <summary>NumPy (multidirectional) broadcasting of row-major shapes, right-aligned.</summary>
internal static class BroadcastIndex
{
    /// <summary>The broadcast of <paramref name="shapes"/>, or null when two dimensions differ and neither is 1.</summary>
    public static int[]? Shape(params int[][] shapes)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        int rank = shapes.Max(s => s.Length);
        var result = new int[rank];
        for (int axis = 0; axis < rank; axis++)
        {
            int dim = 1;
            foreach (int[] s in shapes)
            {
                int offset = axis - (rank - s.Length);
                int d = offset < 0 ? 1 : s[offset];
                if (d != 1 && dim != 1 && d != dim)
                {
                    return null;
                }

                dim = d == 1 ? dim : d;
            }

            result[axis] = dim;
        }

        return result;
    }

    /// <summary>
    /// For every element of <paramref name="outShape"/> (C order), the flat index of the element of
    /// <paramref name="inShape"/> (right-aligned, broadcast) it reads.
    /// </summary>
    public static int[] Map(int[] inShape, int[] outShape)
    {
        ArgumentNullException.ThrowIfNull(inShape);
        ArgumentNullException.ThrowIfNull(outShape);
        int rank = outShape.Length;
        var strides = new int[rank];
        int stride = 1;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int offset = axis - (rank - inShape.Length);
            int d = offset < 0 ? 1 : inShape[offset];
            strides[axis] = d == 1 ? 0 : stride;
            stride *= d;
        }

        int count = Tensor.CheckedCount(outShape);
        var map = new int[count];
        var index = new int[rank];
        int flat = 0;
        for (int j = 0; j < count; j++)
        {
            map[j] = flat;
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                flat += strides[axis];
                if (++index[axis] < outShape[axis])
                {
                    break;
                }

                flat -= strides[axis] * outShape[axis];
                index[axis] = 0;
            }
        }

        return map;
    }
}
