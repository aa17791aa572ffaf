using Clrp.Onnx.Proto;
using Google.Protobuf;

namespace Clrp.MLNet.Tests.Support;

/// <summary>
/// A tiny seeded classifier written as ONNX in code, for tests that need many rows fast:
/// x [N,1,8,8] → Conv 4×3×3 (pads 1) → Relu → MaxPool 2×2 → Flatten → Gemm 64→10 → "logits" → Softmax → "probabilities".
/// </summary>
internal static class TinyModel
{
    public const int Side = 8;
    public const int Classes = 10;

    /// <summary>Writes the model to a new temporary file and returns its path.</summary>
    public static string Write(int seed = 7)
    {
        var random = new Random(seed);
        float[] Weights(int n) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2) - 1) * 0.5f).ToArray();
        var graph = new GraphProto { Name = "tiny" };
        graph.Input.Add(Value("x", "N", 1, Side, Side));
        graph.Output.Add(Value("probabilities", "N", Classes));
        graph.Initializer.Add(Tensor("w1", Weights(4 * 9), 4, 1, 3, 3));
        graph.Initializer.Add(Tensor("b1", Weights(4), 4));
        graph.Initializer.Add(Tensor("w2", Weights(Classes * 64), Classes, 64));
        graph.Initializer.Add(Tensor("b2", Weights(Classes), Classes));
        graph.Node.Add(Node("Conv", ["x", "w1", "b1"], ["c"], Ints("pads", 1, 1, 1, 1), Ints("kernel_shape", 3, 3)));
        graph.Node.Add(Node("Relu", ["c"], ["r"]));
        graph.Node.Add(Node("MaxPool", ["r"], ["p"], Ints("kernel_shape", 2, 2), Ints("strides", 2, 2)));
        graph.Node.Add(Node("Flatten", ["p"], ["f"]));
        graph.Node.Add(Node("Gemm", ["f", "w2", "b2"], ["logits"], new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        graph.Node.Add(Node("Softmax", ["logits"], ["probabilities"], new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 }));
        var model = new ModelProto { IrVersion = 8, Graph = graph, ProducerName = "Clrp.MLNet.Tests" };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        string path = Path.Combine(Path.GetTempPath(), $"clrp-tiny-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }

    /// <summary>Deterministic pseudo-images in [−1, 2], one per row index.</summary>
    public static float[] Image(int row)
    {
        var random = new Random(row);
        return Enumerable.Range(0, Side * Side).Select(_ => (float)((random.NextDouble() * 3) - 1)).ToArray();
    }

    private static ValueInfoProto Value(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture) });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }

    private static TensorProto Tensor(string name, float[] values, params long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(values);
        return t;
    }

    private static NodeProto Node(string op, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = outputs[0] + "_node" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        node.Attribute.AddRange(attributes);
        return node;
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
}
