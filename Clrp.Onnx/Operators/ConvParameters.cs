using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The constant parameters shared by Conv and ConvTranspose — float weights over 1, 2 or 3 spatial axes, group, kernel
/// size and optional bias — read and checked once, with messages naming the node.
/// </summary>
/// <param name="Weights">The weight tensor as stored (Conv [M, C/g, k…]; ConvTranspose [C_in, C_out/g, k…]).</param>
/// <param name="Group">The group attribute.</param>
/// <param name="Bias">The bias, or null.</param>
internal sealed record ConvParameters(ConstantTensor Weights, int Group, float[]? Bias)
{
    /// <summary>The kernel's spatial sizes, one per spatial axis (1-D [k], 2-D [kH, kW], 3-D [kD, kH, kW]).</summary>
    public int[] Kernel => Weights.Shape[2..];

    /// <summary>The weights' float data (checked non-null by <see cref="Read"/>).</summary>
    public float[] Values => Weights.Floats!;

    /// <param name="node">The Conv or ConvTranspose node.</param>
    /// <param name="graph">Its graph (weights and bias must be constants there).</param>
    /// <param name="what">"convolutions" or "transposed convolutions", for messages.</param>
    /// <param name="groupedAxis">What the group must divide, the weights' first axis: "output channels" (Conv) or "input channels" (ConvTranspose).</param>
    /// <param name="biasLength">The bias length the node needs, from the weight shape and group.</param>
    public static ConvParameters Read(Node node, OnnxGraph graph, string what, string groupedAxis, Func<int[], int, int> biasLength)
    {
        ConstantTensor w = graph.RequireConstant(node.Input(1), node, "weight");
        if (w.Shape.Length is < 3 or > 5 || w.Floats is null)
        {
            throw LinearOps.Unsupported(node, $"weight '{node.Input(1)}' has shape {Tensor.FormatShape(w.Shape)}; 1-D, 2-D and 3-D {what} (float weights of rank 3, 4 or 5) are supported");
        }

        int group = (int)node.Attributes.GetInt("group", 1);
        if (group <= 0 || w.Shape[0] % group != 0)
        {
            throw LinearOps.Unsupported(node, $"group {group} does not divide the {w.Shape[0]} {groupedAxis}");
        }

        long[]? kernelShape = node.Attributes.GetInts("kernel_shape");
        if (kernelShape is not null && !kernelShape.SequenceEqual(w.Shape[2..].Select(k => (long)k)))
        {
            throw LinearOps.Unsupported(node, $"kernel_shape [{string.Join(',', kernelShape)}] does not match the weight shape {Tensor.FormatShape(w.Shape)}");
        }

        float[]? bias = node.Input(2).Length > 0 ? graph.RequireConstant(node.Input(2), node, "bias").AsFloats() : null;
        int expected = biasLength(w.Shape, group);
        if (bias is not null && bias.Length != expected)
        {
            throw LinearOps.Unsupported(node, $"bias has {bias.Length} values for {expected} output channels");
        }

        return new ConvParameters(w, group, bias);
    }
}
