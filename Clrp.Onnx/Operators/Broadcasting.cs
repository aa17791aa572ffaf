using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// NumPy (multidirectional) broadcasting over the per-row shapes the walk uses: an activation [N, …] and its
/// relevance [rows, …] share the trailing shape, so element-wise ops broadcast over <c>shape[1..]</c>, while a
/// constant operand is right-aligned to the full shape and must be 1 (or absent) on the batch axis.
/// </summary>
internal static class Broadcasting
{
    /// <summary>The broadcast of <paramref name="shapes"/>, right-aligned; throws when two dimensions differ and neither is 1.</summary>
    public static int[] Shape(Node node, params int[][] shapes) =>
        BroadcastIndex.Shape(shapes) ?? throw Unsupported(node, $"shapes {string.Join(" and ", shapes.Select(Tensor.FormatShape))} do not broadcast");

    /// <summary>
    /// The per-row shape of constant <paramref name="constantShape"/> broadcast against activations of rank
    /// <paramref name="activationRank"/> (with the batch axis): right-aligned, the batch axis dropped. A constant
    /// that reaches the batch axis must be 1 there; one of higher rank than the activation is refused.
    /// </summary>
    public static int[] ConstantRowShape(Node node, int[] constantShape, int activationRank)
    {
        if (constantShape.Length > activationRank || (constantShape.Length == activationRank && constantShape[0] != 1))
        {
            throw Unsupported(node, $"the constant operand {Tensor.FormatShape(constantShape)} would broadcast over the batch axis of a rank-{activationRank} activation");
        }

        return constantShape.Length == activationRank ? constantShape[1..] : constantShape;
    }

    /// <summary>For every element of <paramref name="outShape"/>, the flat index of the broadcast <paramref name="inShape"/> element it reads.</summary>
    public static int[] IndexMap(int[] inShape, int[] outShape) => BroadcastIndex.Map(inShape, outShape);

    /// <summary>True when <paramref name="inShape"/> broadcast to <paramref name="outShape"/> is the identity (same element count).</summary>
    public static bool IsIdentity(int[] inShape, int[] outShape) => Tensor.CheckedCount(inShape) == Tensor.CheckedCount(outShape);

    /// <summary>
    /// Sums <paramref name="values"/> ([rows, …outRowShape]) back onto the broadcast input: <c>result[r, map[j]] += values[r, j]</c>,
    /// giving [rows, …inRowShape]. Relevance and gradients both return over broadcast axes this way.
    /// </summary>
    public static Tensor SumTo(Tensor values, int rows, int[] inRowShape, int[] map)
    {
        var result = new Tensor([rows, .. inRowShape]);
        int outLength = map.Length, inLength = result.RowLength;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> source = values.Data.AsSpan(r * outLength, outLength);
            Span<float> dest = result.Data.AsSpan(r * inLength, inLength);
            for (int j = 0; j < outLength; j++)
            {
                dest[map[j]] += source[j];
            }
        }

        return result;
    }

    private static UnsupportedOperatorException Unsupported(Node node, string reason) =>
        new(node.Name, node.OpType, node.Domain, node.Opset, reason);
}
