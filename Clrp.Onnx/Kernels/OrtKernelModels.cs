using System.Runtime.InteropServices;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Builds the small ONNX models through which ONNX Runtime computes a convolution layer's forward product and its
/// transpose with fixed weights for the managed engine. The nodes are the ones the compiled graph holds
/// (<see cref="ConvEmission"/>), so both engines compute the same products the same way.
/// </summary>
internal static class OrtKernelModels
{
    private const long Opset = 13;

    /// <summary><c>Y = Conv(X, W)</c>, X [N, C, spatial…] with a symbolic batch axis.</summary>
    public static byte[] Convolution(LinearWeights weights, int channels, int groups, Window w) =>
        Build(weights, channels, groups, w, [channels, .. Array.ConvertAll(w.In, d => (long)d)], (e, x) => ConvEmission.Conv(e, x, "W", w, groups));

    /// <summary>The adjoint of <see cref="Convolution"/>: G [N, M, out…] → [N, C, in…] (<see cref="ConvEmission.Adjoint"/>).</summary>
    public static byte[] TransposedConvolution(LinearWeights weights, int channels, int groups, Window w) =>
        Build(weights, channels, groups, w, [weights.Rows, .. Array.ConvertAll(w.Out, d => (long)d)], (e, g) => ConvEmission.Adjoint(e, g, "W", w, groups, channels));

    private static byte[] Build(LinearWeights weights, int channels, int groups, Window w, long[] inputShape, Func<OnnxEmitter, string, string> body)
    {
        var emitter = new OnnxEmitter(Opset, ["X", "W", "Y"]);
        string result = body(emitter, "X");
        emitter.Nodes.Add(new NodeProto { OpType = "Identity", Name = "output", Input = { result }, Output = { "Y" } });

        var graph = new GraphProto { Name = "kernel" };
        var tensor = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        tensor.Dims.AddRange([weights.Rows, channels / groups, .. Array.ConvertAll(w.Kernel, k => (long)k)]);
        tensor.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(weights.Values.AsSpan()));
        graph.Initializer.Add(tensor);
        graph.Initializer.AddRange(emitter.Initializers);
        graph.Node.AddRange(emitter.Nodes);
        graph.Input.Add(FloatValue("X", inputShape));
        graph.Output.Add(FloatValue("Y", null));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "clrp-kernel" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = Opset });
        return model.ToByteArray();
    }

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
