using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The index maps of the routing ops, per the ONNX operator definitions. Parameters are read at load time (attributes
/// or constant inputs, whichever the node's opset uses); the maps are built from the input shape at run time.
/// </summary>
internal static class RouteGeometry
{
    /// <summary>Transpose: output axis k is input axis perm[k]; perm must be given with perm[0] = 0 (the batch axis stays).</summary>
    public static RouteBuilder Transpose(Node node)
    {
        long[]? perm = node.Attributes.GetInts("perm");
        if (perm is null || (perm.Length > 0 && perm[0] != 0))
        {
            // Refused at load: the default (reversed) order and any perm[0] ≠ 0 move the batch axis.
            throw Unsupported(node, $"perm {(perm is null ? "(default: reversed)" : $"[{string.Join(',', perm)}]")} moves the batch axis");
        }

        return (inShape, _) =>
        {
            int rank = inShape.Length;
            int[] p = Array.ConvertAll(perm, v => (int)v);
            if (p.Length != rank || p.Order().Where((v, i) => v != i).Any())
            {
                throw Unsupported(node, $"perm [{string.Join(',', p)}] is not a permutation of the {rank} axes of {Tensor.FormatShape(inShape)}");
            }

            int[] inRow = inShape[1..];
            int[] inStrides = Strides(inRow);
            int[] outRow = Enumerable.Range(1, rank - 1).Select(k => inShape[p[k]]).ToArray();
            int[] outStrides = Enumerable.Range(1, rank - 1).Select(k => inStrides[p[k] - 1]).ToArray();
            var axisMaps = outRow.Select((d, k) => Enumerable.Range(0, d).Select(o => o * outStrides[k]).ToArray()).ToArray();
            return new Route(Flatten(axisMaps), outRow);
        };
    }

    /// <summary>
    /// Slice: per sliced axis, <c>in = start + o·step</c> for o in [0, ⌈(end − start)/step⌉), with negative starts/ends counted
    /// from the end and clamped as ONNX says ([0, dim] for step &gt; 0, [−1, dim−1] for step &lt; 0). The batch axis may only be sliced whole.
    /// </summary>
    public static RouteBuilder Slice(Node node, OnnxGraph graph)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (node.Opset < 10)
        {
            starts = node.Attributes.GetInts("starts") ?? throw Unsupported(node, "the attribute 'starts' is missing");
            ends = node.Attributes.GetInts("ends") ?? throw Unsupported(node, "the attribute 'ends' is missing");
            axes = node.Attributes.GetInts("axes");
        }
        else
        {
            starts = graph.RequireConstant(node.Input(1), node, "starts").AsLongs();
            ends = graph.RequireConstant(node.Input(2), node, "ends").AsLongs();
            axes = node.Input(3).Length > 0 ? graph.RequireConstant(node.Input(3), node, "axes").AsLongs() : null;
            steps = node.Input(4).Length > 0 ? graph.RequireConstant(node.Input(4), node, "steps").AsLongs() : null;
        }

        if (ends.Length != starts.Length || (axes is not null && axes.Length != starts.Length) || (steps is not null && steps.Length != starts.Length) || (steps?.Contains(0) ?? false))
        {
            throw Unsupported(node, "starts, ends, axes and steps must have equal lengths and steps must be non-zero");
        }

        return (inShape, _) =>
        {
            int rank = inShape.Length;
            var axisMaps = inShape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
            for (int k = 0; k < starts.Length; k++)
            {
                int axis = NormalizeAxis(node, axes?[k] ?? k, rank);
                axisMaps[axis] = OnnxSlicing.Indices(starts[k], ends[k], steps?[k] ?? 1, inShape[axis]);
            }

            return Build(node, inShape, axisMaps, "sliced");
        };
    }

    /// <summary>
    /// Pad: output o on an axis padded by (begin, end) reads input <c>o − begin</c>; outside the input a constant cell (−1),
    /// or for edge the nearest border cell, for reflect the mirror image without repeating the border, for wrap the cell
    /// one period away. Negative pads crop. The batch axis may not be padded.
    /// </summary>
    public static RouteBuilder Pad(Node node, OnnxGraph graph)
    {
        string mode = node.Attributes.GetString("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap"))
        {
            throw Unsupported(node, $"mode '{mode}' is not one of constant, reflect, edge, wrap");
        }

        long[] pads = node.Opset < 11
            ? node.Attributes.GetInts("pads") ?? throw Unsupported(node, "the attribute 'pads' is missing")
            : graph.RequireConstant(node.Input(1), node, "pads").AsLongs();
        long[]? axes = node.Opset >= 18 && node.Input(3).Length > 0 ? graph.RequireConstant(node.Input(3), node, "axes").AsLongs() : null;
        return (inShape, _) =>
        {
            int rank = inShape.Length;
            int[] padded = axes is null ? Enumerable.Range(0, rank).ToArray() : axes.Select(a => NormalizeAxis(node, a, rank)).ToArray();
            if (pads.Length != 2 * padded.Length)
            {
                throw Unsupported(node, $"{pads.Length} pads for {padded.Length} axes of {Tensor.FormatShape(inShape)}");
            }

            var axisMaps = inShape.Select(d => Enumerable.Range(0, d).ToArray()).ToArray();
            for (int k = 0; k < padded.Length; k++)
            {
                int axis = padded[k], dim = inShape[axis];
                int begin = (int)pads[k], end = (int)pads[k + padded.Length];
                axisMaps[axis] = Enumerable.Range(0, Math.Max(0, dim + begin + end)).Select(o => Source(o - begin, dim, mode)).ToArray();
            }

            return Build(node, inShape, axisMaps, "padded");
        };
    }

    /// <summary>Expand: NumPy broadcast of the input to <paramref name="shape"/> (or to the captured output shape when the shape is computed).</summary>
    public static RouteBuilder Expand(Node node, long[]? shape) => (inShape, outShape) =>
    {
        int[] target = shape is null ? outShape! : Broadcasting.Shape(node, inShape, Array.ConvertAll(shape, v => (int)v));
        if (target.Length != inShape.Length || target[0] != inShape[0])
        {
            throw Unsupported(node, $"expanding {Tensor.FormatShape(inShape)} to {Tensor.FormatShape(target)} changes the rank or the batch axis");
        }

        return new Route(Broadcasting.IndexMap(inShape[1..], target[1..]), target[1..]);
    };

    /// <summary>
    /// Tile (issue 11): output coordinate <c>o</c> on axis a copies input coordinate <c>o mod d_a</c>, so relevance and gradient
    /// are summed back over the copies (as Expand). <c>repeats</c> is a constant input (or folded shape arithmetic); the batch
    /// axis must not be repeated.
    /// </summary>
    public static RouteBuilder Tile(Node node, OnnxGraph graph)
    {
        long[] repeats = graph.RequireConstant(node.Input(1), node, "repeats").AsLongs();
        return (inShape, _) =>
        {
            if (repeats.Length != inShape.Length || repeats.Any(r => r < 0))
            {
                throw Unsupported(node, $"repeats [{string.Join(',', repeats)}] do not match the {inShape.Length} axes of {Tensor.FormatShape(inShape)}");
            }

            int[][] axisMaps = inShape.Select((d, a) => Enumerable.Range(0, checked(d * (int)repeats[a])).Select(o => o % d).ToArray()).ToArray();
            return Build(node, inShape, axisMaps, "repeated");
        };
    }

    /// <summary>
    /// DepthToSpace (blocksize b; ONNX modes DCR, the default, and CRD) on [N, C, H, W]: output
    /// <c>(c, h·b + i, w·b + j)</c> copies input channel <c>(i·b + j)·C/b² + c</c> (DCR) or <c>c·b² + i·b + j</c> (CRD) at (h, w).
    /// A permutation: relevance and gradient go back to the element copied.
    /// </summary>
    public static RouteBuilder DepthToSpace(Node node)
    {
        int b = checked((int)node.Attributes.GetInt("blocksize", 0));
        bool crd = node.Attributes.GetString("mode", "DCR") == "CRD";
        return (inShape, _) =>
        {
            (int c, int h, int w) = Image4d(node, inShape, b);
            if (c % (b * b) != 0)
            {
                throw Unsupported(node, $"{c} channels are not divisible by blocksize² = {b * b}");
            }

            int oc = c / (b * b), oh = h * b, ow = w * b;
            var map = new int[oc * oh * ow];
            for (int k = 0, y = 0; y < oc; y++)
            {
                for (int r = 0; r < oh; r++)
                {
                    for (int q = 0; q < ow; q++, k++)
                    {
                        int i = r % b, j = q % b;
                        int channel = crd ? (y * b * b) + (i * b) + j : (((i * b) + j) * oc) + y;
                        map[k] = (((channel * h) + (r / b)) * w) + (q / b);
                    }
                }
            }

            return new Route(map, [oc, oh, ow]);
        };
    }

    /// <summary>
    /// SpaceToDepth (blocksize b) on [N, C, H, W]: output channel <c>(i·b + j)·C + c</c> at (h, w) copies input
    /// <c>(c, h·b + i, w·b + j)</c>. A permutation.
    /// </summary>
    public static RouteBuilder SpaceToDepth(Node node)
    {
        int b = checked((int)node.Attributes.GetInt("blocksize", 0));
        return (inShape, _) =>
        {
            (int c, int h, int w) = Image4d(node, inShape, b);
            if (h % b != 0 || w % b != 0)
            {
                throw Unsupported(node, $"the spatial size {h}×{w} is not divisible by blocksize {b}");
            }

            int oc = c * b * b, oh = h / b, ow = w / b;
            var map = new int[oc * oh * ow];
            for (int k = 0, y = 0; y < oc; y++)
            {
                int block = y / c, channel = y % c, i = block / b, j = block % b;
                for (int r = 0; r < oh; r++)
                {
                    for (int q = 0; q < ow; q++, k++)
                    {
                        map[k] = (((channel * h) + (r * b) + i) * w) + (q * b) + j;
                    }
                }
            }

            return new Route(map, [oc, oh, ow]);
        };
    }

    private static (int C, int H, int W) Image4d(Node node, int[] inShape, int blocksize)
    {
        if (inShape.Length != 4 || blocksize < 1)
        {
            throw Unsupported(node, $"expects a [N,C,H,W] input and blocksize ≥ 1, got {Tensor.FormatShape(inShape)} and {blocksize}");
        }

        return (inShape[1], inShape[2], inShape[3]);
    }

    /// <summary>An axis in [−rank, rank) made non-negative.</summary>
    public static int NormalizeAxis(Node node, long axis, int rank) =>
        OnnxSlicing.NormalizeAxis(axis, rank) ?? throw Unsupported(node, $"axis {axis} is outside [−{rank}, {rank})");

    /// <summary>Row-major strides of <paramref name="shape"/>.</summary>
    public static int[] Strides(int[] shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int axis = shape.Length - 1; axis >= 0; axis--)
        {
            strides[axis] = stride;
            stride *= shape[axis];
        }

        return strides;
    }

    /// <summary>
    /// The route of a separable op: <paramref name="axisMaps"/>[a][o] is the input coordinate output coordinate o reads on
    /// axis a (−1: none). Axis 0 (batch) must map every image to itself.
    /// </summary>
    public static Route Build(Node node, int[] inShape, int[][] axisMaps, string what)
    {
        int[] batch = axisMaps[0];
        if (batch.Length != inShape[0] || batch.Where((v, i) => v != i).Any())
        {
            throw Unsupported(node, $"the batch axis of {Tensor.FormatShape(inShape)} would be {what}");
        }

        int[] inStrides = Strides(inShape[1..]);
        int[][] scaled = axisMaps[1..].Select((m, k) => m.Select(v => v < 0 ? -1 : v * inStrides[k]).ToArray()).ToArray();
        return new Route(Flatten(scaled), axisMaps[1..].Select(m => m.Length).ToArray());
    }

    /// <summary>Flat map over the product of per-axis offset lists (C order); −1 anywhere makes the element −1.</summary>
    private static int[] Flatten(int[][] axisOffsets)
    {
        int[] outShape = axisOffsets.Select(m => m.Length).ToArray();
        int count = Tensor.CheckedCount(outShape);
        var map = new int[count];
        var index = new int[outShape.Length];
        for (int j = 0; j < count; j++)
        {
            int flat = 0;
            for (int a = 0; a < index.Length && flat >= 0; a++)
            {
                int offset = axisOffsets[a][index[a]];
                flat = offset < 0 ? -1 : flat + offset;
            }

            map[j] = flat;
            for (int a = index.Length - 1; a >= 0 && ++index[a] == outShape[a]; a--)
            {
                index[a] = 0;
            }
        }

        return map;
    }

    /// <summary>The input coordinate a padded coordinate <paramref name="i"/> (relative to the input start) copies.</summary>
    private static int Source(int i, int dim, string mode)
    {
        if (i >= 0 && i < dim)
        {
            return i;
        }

        switch (mode)
        {
            case "edge":
                return Math.Clamp(i, 0, dim - 1);
            case "wrap":
                return ((i % dim) + dim) % dim;
            case "reflect":
                if (dim == 1)
                {
                    return 0;
                }

                int period = 2 * (dim - 1);
                int m = ((i % period) + period) % period;
                return m < dim ? m : period - m;
            default:
                return -1;
        }
    }

    private static UnsupportedOperatorException Unsupported(Node node, string reason) =>
        new(node.Name, node.OpType, node.Domain, node.Opset, reason);
}
