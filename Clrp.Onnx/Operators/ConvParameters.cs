using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// The constant parameters shared by Conv and ConvTranspose — 4-D float weights, group, kernel size and optional
/// bias — read and checked once, with messages naming the node.
/// </summary>
/// <param name="Weights">The weight tensor as stored (Conv [M, C/g, kH, kW]; ConvTranspose [C_in, C_out/g, kH, kW]).</param>
/// <param name="Group">The group attribute.</param>
/// <param name="Bias">The bias, or null.</param>
internal sealed record ConvParameters(ConstantTensor Weights, int Group, float[]? Bias)
{
    public int KernelH => Weights.Shape[2];

    public int KernelW => Weights.Shape[3];

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
        if (w.Shape.Length != 4 || w.Floats is null)
        {
            throw LinearOps.Unsupported(node, $"weight '{node.Input(1)}' has shape {Tensor.FormatShape(w.Shape)}; only 2-D {what} (4-D float weights) are supported, 1-D and 3-D convolutions not yet");
        }

        int group = (int)node.Attributes.GetInt("group", 1);
        if (group <= 0 || w.Shape[0] % group != 0)
        {
            throw LinearOps.Unsupported(node, $"group {group} does not divide the {w.Shape[0]} {groupedAxis}");
        }

        long[]? kernelShape = node.Attributes.GetInts("kernel_shape");
        if (kernelShape is not null && (kernelShape.Length != 2 || kernelShape[0] != w.Shape[2] || kernelShape[1] != w.Shape[3]))
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
