using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Proto;
using Clrp.Onnx.Tensors;
using Google.Protobuf;

namespace Clrp.Benchmarks;

/// <summary>
/// Scale (issue 11): load and one LRP explanation of a straight chain x [1,3,4,4] → Relu × <see cref="Nodes"/> → Flatten → Gemm,
/// for each engine. Load (read, canonize, plan, shape probe, runtime session) and walk must grow linearly with the node
/// count; the target is under 5 s at 20,000 nodes on 2 vCPU. One cold load per iteration (ColdStart, a few runs).
/// </summary>
[SimpleJob(RunStrategy.ColdStart, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class LongChainBenchmarks
{
    private string _path = null!;
    private Tensor _x = null!;

    [Params(2_000, 8_000, 20_000)]
    public int Nodes { get; set; }

    [Params(ExplainerEngine.Compiled, ExplainerEngine.Managed)]
    public ExplainerEngine Engine { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), $"clrp-chain-{Nodes}-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(_path, ReluChain(Nodes).ToByteArray());
        _x = new Tensor(Enumerable.Range(0, 48).Select(i => (float)Math.Sin(i + 0.5)).ToArray(), [1, 3, 4, 4]);
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(_path);

    /// <summary>Load (every phase) and one explanation of the predicted class.</summary>
    [Benchmark]
    public Explanation LoadAndExplain()
    {
        using var explainer = ClrpExplainer.Load(_path, new ExplainerOptions { Method = ExplainMethod.Lrp, Engine = Engine });
        return explainer.Explain(_x);
    }

    /// <summary>The chain model, written with the library's own protobuf types.</summary>
    internal static ModelProto ReluChain(int relus)
    {
        var graph = new GraphProto { Name = "relu-chain" };
        graph.Input.Add(Value("x", "N", 3, 4, 4));
        string prev = "x";
        for (int i = 0; i < relus; i++)
        {
            graph.Node.Add(Node("Relu", $"relu{i}", [prev], $"r{i}"));
            prev = $"r{i}";
        }

        graph.Node.Add(Node("Flatten", "flatten", [prev], "f"));
        var rng = new Random(11);
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        w.Dims.AddRange([5, 48]);
        w.FloatData.AddRange(Enumerable.Range(0, 5 * 48).Select(_ => (float)(rng.NextDouble() - 0.5)));
        graph.Initializer.Add(w);
        NodeProto gemm = Node("Gemm", "gemm", ["f", "w"], "y");
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        var model = new ModelProto { IrVersion = 8, ProducerName = "clrp-benchmarks", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    private static NodeProto Node(string op, string name, string[] inputs, string output)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.Add(output);
        return n;
    }

    private static ValueInfoProto Value(string name, params object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (object d in dims)
        {
            shape.Dim.Add(d is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = (int)d });
        }

        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }
}
