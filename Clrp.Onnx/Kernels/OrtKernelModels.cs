using System.Runtime.InteropServices;
using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Builds the one-node ONNX models through which ONNX Runtime computes a convolution layer's forward
/// product and its transpose with fixed weights: <c>Conv(X, W)</c> and <c>ConvTranspose(G, W)</c> with the
/// layer's strides, dilations, pads and groups, and an output_padding that restores the exact input size.
/// </summary>
internal static class OrtKernelModels
{
    private const long Opset = 13;

    /// <summary><c>Y = Conv(X, W)</c>, X [N, C, H, W] with a symbolic batch axis.</summary>
    public static byte[] Convolution(LinearWeights weights, int channels, int groups, Window2d w) =>
        Build("Conv", weights, channels, groups, w, [channels, w.InH, w.InW], outputPadding: null);

    /// <summary>
    /// <c>Y = ConvTranspose(G, W)</c>, the adjoint of <see cref="Convolution"/>: G [N, M, oH, oW] → [N, C, H, W].
    /// The transposed output size is <c>s·(o−1) + p_out + d·(k−1) + 1 − pads</c>; p_out is what floor division
    /// dropped in the forward size, so the result matches the original input exactly.
    /// </summary>
    public static byte[] TransposedConvolution(LinearWeights weights, int channels, int groups, Window2d w)
    {
        (int extraH, int extraW) = ConvEmission.OutputPadding(w);
        return Build("ConvTranspose", weights, channels, groups, w, [weights.Rows, w.OutH, w.OutW], outputPadding: [extraH, extraW]);
    }

    private static byte[] Build(string op, LinearWeights weights, int channels, int groups, Window2d w, long[] inputShape, long[]? outputPadding)
    {
        var graph = new GraphProto { Name = op.ToLowerInvariant() };
        var tensor = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange([weights.Rows, channels / groups, w.KernelH, w.KernelW]);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(weights.Values.AsSpan()));
        graph.Initializer.Add(tensor);

        var node = new NodeProto { OpType = op, Name = op };
        node.Input.Add("X");
        node.Input.Add("W");
        node.Output.Add("Y");
        node.Attribute.Add(Ints("kernel_shape", w.KernelH, w.KernelW));
        node.Attribute.Add(Ints("strides", w.StrideH, w.StrideW));
        node.Attribute.Add(Ints("dilations", w.DilationH, w.DilationW));
        node.Attribute.Add(Ints("pads", w.PadTop, w.PadLeft, w.PadBottom, w.PadRight));
        node.Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = groups });
        if (outputPadding is not null)
        {
            node.Attribute.Add(Ints("output_padding", outputPadding));
        }

        graph.Node.Add(node);
        graph.Input.Add(FloatValue("X", inputShape));
        graph.Output.Add(FloatValue("Y", null));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "clrp-kernel" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return model.ToByteArray();
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }

    private static AttributeProto Ints(string name, params int[] values) => Ints(name, Array.ConvertAll(values, v => (long)v));

    private static ValueInfoProto FloatValue(string name, long[]? perSampleShape)
    {
        var type = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float };
        if (perSampleShape is not null)
        {
            type.Shape = new TensorShapeProto();
            type.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
            foreach (long d in perSampleShape)
            {
                type.Shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            }
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = type } };
    }
}
