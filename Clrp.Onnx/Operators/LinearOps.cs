using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>Linear layers: Conv (1-D, 2-D and 3-D, any group, dilations, pads, auto_pad), Gemm, MatMul with a constant right operand.</summary>
internal static class LinearOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("Conv", 1, 22, (n, g) => new ConvPropagator(n, g));
        registry.Register("Gemm", 1, 22, (n, g) => new GemmPropagator(n, g));
        // MatMul is registered by ContractionOps, which picks GemmPropagator or a contraction by operand.
    }

    internal static UnsupportedOperatorException Unsupported(Node node, string reason) =>
        new(node.Name, node.OpType, node.Domain, node.Opset, reason);
}

/// <summary>
/// Conv, X [N, C, spatial…] ∗ W [M, C/group, k…] + B [M] over 1 (audio, ECG, text), 2 (images) or 3 (volumes, video)
/// spatial axes: relevance by the node's rule over <see cref="OrtConvKernel"/>.
/// </summary>
internal sealed class ConvPropagator : ILinearPropagator, IDisposable
{
    private readonly Node _node;
    private readonly LinearLayer _layer;
    private readonly int _group;
    private readonly int[] _kernel;
    private readonly ConcurrentDictionary<string, OrtConvKernel> _kernels = new(StringComparer.Ordinal);

    public ConvPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        ConvParameters p = ConvParameters.Read(node, graph, "convolutions", "output channels", (shape, _) => shape[0]);
        _group = p.Group;
        _kernel = p.Kernel;
        _layer = new LinearLayer(new LinearWeights(p.Values, p.Weights.Shape[0], _group, new WeightOrigin(node.Input(1), Transposed: false)), p.Bias);
        InputChannels = p.Weights.Shape[1] * _group;
    }

    public int InputChannels { get; }

    /// <summary>The weight tensor's shape, [M, C/group, k…].</summary>
    internal int[] WeightShape => [_layer.Weights!.Rows, InputChannels / _group, .. _kernel];

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => true;

    public string InputName => _node.Input(0);

    public LinearLayer Layer => _layer;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue a = alg.Activation(_node.Input(0));
        (ILinearKernel kernel, _) = KernelFor(a.RowShape);
        RelValue relevance = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        return [LinearPropagation.Backward(_node, InputName, kernel, _layer, a, relevance, alg, plan), null, null];
    }

    public (ILinearKernel Kernel, LinearLayer Layer) KernelFor(int[] inputRow)
    {
        if (inputRow.Length != _kernel.Length + 1 || inputRow[0] != InputChannels)
        {
            throw LinearOps.Unsupported(_node, $"input has shape {Tensor.FormatShape(inputRow)} per image; a {_kernel.Length}-D convolution expects [{InputChannels},{string.Join(',', SpatialNames(_kernel.Length))}]");
        }

        return (KernelForRow(inputRow), _layer);
    }

    /// <summary>The layer's kernel for an input of c×h×w (ONNX Runtime sessions, built once per input size).</summary>
    internal OrtConvKernel KernelFor(int c, int h, int w) => KernelForRow([c, h, w]);

    /// <summary>The spatial axes' names of a <paramref name="rank"/>-D input, for messages.</summary>
    internal static string[] SpatialNames(int rank) => rank switch
    {
        1 => ["L"],
        2 => ["H", "W"],
        3 => ["D", "H", "W"],
        _ => Enumerable.Range(1, rank).Select(i => $"S{i}").ToArray(),
    };

    private OrtConvKernel KernelForRow(int[] row) =>
        _kernels.GetOrAdd(Tensor.FormatShape(row), _ => new OrtConvKernel(row[0], _layer.Weights!.Rows, _group, Window.FromNode(_node, row[1..], _kernel, isPool: false)));

    public void Dispose()
    {
        foreach (OrtConvKernel kernel in _kernels.Values)
        {
            kernel.Dispose();
        }
    }
}

/// <summary>
/// Gemm <c>Y = α·A'·B' + β·C</c> (A' = Aᵀ if transA, B' = Bᵀ if transB) with A the activation and B, C constant;
/// and MatMul <c>Y = A·B</c> with B constant (a following Add of a constant vector is folded into C by a canonizer).
/// The layer is normalised to weights [out, in] = α·B'ᵀ and bias β·C. An activation of rank &gt; 2 (MatMul, or a
/// MatMul+Add fused into Gemm) applies the layer along its last axis at every position (<see cref="ContractionKernel.LastAxis"/>).
/// </summary>
internal sealed class GemmPropagator : ILinearPropagator
{
    private readonly Node _node;
    private readonly LinearLayer _layer;
    private readonly DenseKernel _kernel;
    private readonly ConcurrentDictionary<string, ContractionKernel> _positional = new(StringComparer.Ordinal);

    public GemmPropagator(Node node, OnnxGraph graph)
    {
        _node = node;
        bool isGemm = node.OpType == "Gemm";
        if (graph.IsConstant(node.Input(0)))
        {
            throw LinearOps.Unsupported(node, "the left operand is constant and the right one computed; only activation × constant weights is supported");
        }

        ConstantTensor b = graph.RequireConstant(node.Input(1), node, "weight (second input)");
        bool matrixAsStored = b.Shape.Length == 2;
        if (b.Shape.Length > 2 && !isGemm && b.Shape[..^2].All(d => d == 1) && b.Floats is not null)
        {
            b = new ConstantTensor(b.Shape[^2..], b.Floats); // MatMul broadcasts a [1, …, in, out] weight like [in, out]
        }

        if (b.Shape.Length != 2 || b.Floats is null)
        {
            throw LinearOps.Unsupported(node, $"weight '{node.Input(1)}' has shape {Tensor.FormatShape(b.Shape)}; a 2-D float matrix (or one with leading axes of 1) is expected, not weights batched per position");
        }

        float alpha = isGemm ? node.Attributes.GetFloat("alpha", 1f) : 1f;
        float beta = isGemm ? node.Attributes.GetFloat("beta", 1f) : 1f;
        bool transA = isGemm && node.Attributes.GetInt("transA", 0) != 0;
        bool transB = isGemm && node.Attributes.GetInt("transB", 0) != 0;
        if (transA)
        {
            throw LinearOps.Unsupported(node, "transA = 1 (the activation transposed) is not supported");
        }

        int outputs = transB ? b.Shape[0] : b.Shape[1];
        int inputs = transB ? b.Shape[1] : b.Shape[0];
        float[] w;
        if (transB && alpha == 1f)
        {
            // Already [out, in]: share the constant's buffer (the graph's constants are never mutated). For VGG's
            // 25088×4096 layer a copy would cost 400 MB.
            w = b.Floats;
        }
        else
        {
            w = new float[outputs * inputs];
            for (int o = 0; o < outputs; o++)
            {
                for (int i = 0; i < inputs; i++)
                {
                    w[(o * inputs) + i] = alpha * (transB ? b.Floats[(o * inputs) + i] : b.Floats[(i * outputs) + o]);
                }
            }
        }

        float[]? bias = null;
        if (isGemm && node.Input(2).Length > 0)
        {
            ConstantTensor c = graph.RequireConstant(node.Input(2), node, "bias C");
            float[] cv = c.AsFloats();
            if (cv.Length == 1)
            {
                bias = Enumerable.Repeat(beta * cv[0], outputs).ToArray();
            }
            else if (cv.Length == outputs && (c.Shape.Length == 1 || c.Shape[0] == 1))
            {
                bias = Array.ConvertAll(cv, v => beta * v);
            }
            else
            {
                throw LinearOps.Unsupported(node, $"bias C has shape {Tensor.FormatShape(c.Shape)}; expected a scalar, [{outputs}] or [1,{outputs}]");
            }
        }

        // The compiled graph reads the model's own matrix (as [out, in], or [in, out] with Gemm's transB) unless α rescaled it.
        WeightOrigin? origin = alpha == 1f && matrixAsStored ? new WeightOrigin(node.Input(1), Transposed: !transB) : null;
        _layer = new LinearLayer(new LinearWeights(w, outputs, origin: origin), bias);
        _kernel = new DenseKernel(inputs, outputs);
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => true;

    public string InputName => _node.Input(0);

    public LinearLayer Layer => _layer;

    internal DenseKernel Kernel => _kernel;

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue a = alg.Activation(_node.Input(0));
        (ILinearKernel kernel, _) = KernelFor(a.RowShape);
        RelValue relevance = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        RelValue result = LinearPropagation.Backward(_node, InputName, kernel, _layer, a, relevance, alg, plan);
        return _node.Inputs.Count == 3 ? [result, null, null] : [result, null];
    }

    public (ILinearKernel Kernel, LinearLayer Layer) KernelFor(int[] inputRow)
    {
        if (inputRow.Length < 1 || inputRow[^1] != _kernel.InputShape[0])
        {
            throw LinearOps.Unsupported(_node, $"input has shape {Tensor.FormatShape(inputRow)} per image; expected [{_kernel.InputShape[0]}] or […,{_kernel.InputShape[0]}]");
        }

        ILinearKernel kernel = inputRow.Length == 1 ? _kernel
            : _positional.GetOrAdd(Tensor.FormatShape(inputRow), _ => ContractionKernel.LastAxis(inputRow, _kernel.OutputShape[0]));
        return (kernel, _layer);
    }
}
