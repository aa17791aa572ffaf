using System.Collections.Concurrent;
using Clrp.Onnx.Algebra;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Rules;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>
/// Products of an activation with a constant tensor beyond 2-D Gemm: MatMul with N-D operands (constant on either side)
/// and Einsum with one constant operand. Both are linear layers ("dense" for composites).
/// </summary>
internal static class ContractionOps
{
    public static void Register(OperatorRegistry registry)
    {
        registry.Register("MatMul", 1, 22, CreateMatMul);
        registry.Register("Einsum", 12, 22, (n, g) => ContractionPropagator.ForEinsum(n, g));
    }

    /// <summary>
    /// MatMul: activation × constant → <see cref="GemmPropagator"/> (2-D, or N-D with the last axis contracted);
    /// constant × activation → <c>W[u,c]·X[…,c,t]</c> as the contraction "uc,...ct->...ut"; activation × activation refused.
    /// </summary>
    private static IOperatorPropagator CreateMatMul(Node node, OnnxGraph graph)
    {
        bool left = DataFlow.IsActivation(graph, node.Input(0)), right = DataFlow.IsActivation(graph, node.Input(1));
        if (left && right)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset,
                "MatMul of two activations (attention-style products) is outside ClrpMl's CNN scope (transformers need AttnLRP-style rules); only a product with constant weights is a linear layer");
        }

        return left ? new GemmPropagator(node, graph) : ContractionPropagator.ForLeftConstantMatMul(node, graph);
    }
}

/// <summary>
/// A linear layer <c>y = contract(x, W)</c> described by Einsum letters: x's letters are its batch letter, position letters
/// (kept in y) and contracted letters (shared with W); W's letters are contracted letters and output-unit letters (kept in y).
/// Weights are laid out [units, contracted] so rules, biases and CLRP2's negated unit work per output unit.
/// Relevance by the node's rule over <see cref="ContractionKernel"/>; gradient <c>Wᵀg</c>.
/// </summary>
internal sealed class ContractionPropagator : ILinearPropagator
{
    private readonly Node _node;
    private readonly int _activation;
    private readonly string _x;
    private readonly string _output;
    private readonly char[] _contracted;
    private readonly char[] _units;
    private readonly Dictionary<char, int> _weightSizes;
    private readonly LinearLayer _layer;
    private readonly ConcurrentDictionary<string, ContractionKernel> _kernels = new(StringComparer.Ordinal);

    private ContractionPropagator(Node node, int activation, string x, string w, string output, ConstantTensor weight)
    {
        _node = node;
        _activation = activation;
        _x = x;
        _output = output;
        if (weight.Floats is null || weight.Shape.Length != w.Length)
        {
            throw Unsupported($"the constant operand {Tensor.FormatShape(weight.Shape)} does not match the subscripts '{w}' (float weights expected)");
        }

        if (w.Distinct().Count() != w.Length || x.Replace("...", string.Empty, StringComparison.Ordinal).GroupBy(c => c).Any(g => g.Count() > 1) || output.Replace("...", string.Empty, StringComparison.Ordinal).GroupBy(c => c).Any(g => g.Count() > 1))
        {
            throw Unsupported("repeated subscripts (diagonals) are not supported");
        }

        foreach (char c in w)
        {
            if (x.Contains(c) == output.Contains(c))
            {
                throw Unsupported(x.Contains(c)
                    ? $"subscript '{c}' is in both operands and the output (a product batched over the weights)"
                    : $"subscript '{c}' of the constant operand is summed out alone");
            }
        }

        _weightSizes = w.Select((c, i) => (c, weight.Shape[i])).ToDictionary(p => p.c, p => p.Item2);
        _contracted = w.Where(x.Contains).ToArray();
        _units = output.Where(w.Contains).ToArray();
        _layer = new LinearLayer(new LinearWeights(WeightMatrix(w, weight), Math.Max(1, _units.Aggregate(1, (n, c) => n * _weightSizes[c]))), null);
    }

    public IEnumerable<string> RequiredValues => [_node.Input(_activation)];

    public bool IsLinear => true;

    public string InputName => _node.Input(_activation);

    public LinearLayer Layer => _layer;

    /// <summary>Einsum with one constant operand: "equation" with two operands, explicit ("->") or implicit output.</summary>
    public static ContractionPropagator ForEinsum(Node node, OnnxGraph graph)
    {
        string equation = node.Attributes.GetString("equation", string.Empty).Replace(" ", string.Empty, StringComparison.Ordinal);
        string[] sides = equation.Split("->");
        string[] operands = sides[0].Split(',');
        if (operands.Length != 2 || node.Inputs.Count != 2 || sides.Length > 2)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"equation '{equation}' does not have two operands; only activation × constant contractions are linear layers");
        }

        bool first = DataFlow.IsActivation(graph, node.Input(0)), second = DataFlow.IsActivation(graph, node.Input(1));
        if (first == second)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "Einsum is supported with exactly one constant operand (a contraction of two activations, as in attention, is not a linear layer and is outside ClrpMl's CNN scope)");
        }

        int activation = first ? 0 : 1;
        ConstantTensor weight = graph.RequireConstant(node.Input(1 - activation), node, "constant operand");
        string output = sides.Length == 2 ? sides[1] : ImplicitOutput(operands);
        return new ContractionPropagator(node, activation, operands[activation], operands[1 - activation], output, weight);
    }

    /// <summary>MatMul W[U,C] · X[N, …, C, T]: the contraction "uc,...ct->...ut" (leading axes of a constant W must be 1).</summary>
    public static ContractionPropagator ForLeftConstantMatMul(Node node, OnnxGraph graph)
    {
        ConstantTensor w = graph.RequireConstant(node.Input(0), node, "left operand");
        if (w.Shape.Length < 2 || w.Shape[..^2].Any(d => d != 1))
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, $"the constant left operand {Tensor.FormatShape(w.Shape)} is not a matrix (with leading axes of 1)");
        }

        var matrix = new ConstantTensor(w.Shape[^2..], w.Floats ?? w.AsFloats());
        return new ContractionPropagator(node, 1, "...ct", "uc", "...ut", matrix);
    }

    public RelValue?[] Propagate(RelValue?[] outputRelevance, IRelevanceAlgebra alg, PlanContext plan)
    {
        RelValue a = alg.Activation(InputName);
        (ILinearKernel kernel, _) = KernelFor(a.RowShape);
        RelValue relevance = alg.Reshape(outputRelevance[0]!, kernel.OutputShape);
        var result = new RelValue?[_node.Inputs.Count];
        result[_activation] = LinearPropagation.Backward(_node, InputName, kernel, _layer, a, relevance, alg, plan);
        return result;
    }

    public (ILinearKernel Kernel, LinearLayer Layer) KernelFor(int[] inputRow) =>
        (_kernels.GetOrAdd(Tensor.FormatShape(inputRow), _ => BuildKernel([1, .. inputRow])), _layer);

    /// <summary>Index maps for an activation of <paramref name="shape"/>: the ellipsis expanded, sizes checked, the batch letter kept first.</summary>
    private ContractionKernel BuildKernel(int[] shape)
    {
        (string x, string output) = ExpandEllipsis(shape.Length);
        if (x.Length != shape.Length)
        {
            throw Unsupported($"subscripts '{_x}' do not match the activation {Tensor.FormatShape(shape)}");
        }

        char batch = x[0];
        if (output.Length == 0 || output[0] != batch || _weightSizes.ContainsKey(batch))
        {
            throw Unsupported($"the activation's first (batch) axis must stay the output's first axis and not meet the weights ('{_x}' → '{_output}')");
        }

        var size = new Dictionary<char, int>(_weightSizes);
        for (int i = 0; i < x.Length; i++)
        {
            if (size.TryGetValue(x[i], out int known) && known != shape[i])
            {
                throw Unsupported($"subscript '{x[i]}' has size {shape[i]} in the activation and {known} in the weights");
            }

            size[x[i]] = shape[i];
        }

        char[] positions = x[1..].Where(c => !_contracted.Contains(c)).ToArray();
        if (positions.Any(c => !output.Contains(c)) || output.Any(c => !size.ContainsKey(c)))
        {
            throw Unsupported($"'{_x}' → '{_output}' sums an activation axis out or names an unknown axis; only contractions with the weights are supported");
        }

        string xRow = x[1..], outRow = output[1..];
        Dictionary<char, int> xStride = Strides(xRow, size), outStride = Strides(outRow, size);
        int[] pIn = Offsets(positions, size, xStride), cIn = Offsets(_contracted, size, xStride);
        int[] pOut = Offsets(positions, size, outStride), uOut = Offsets(_units, size, outStride);
        int[] inputIndex = pIn.SelectMany(p => cIn.Select(c => p + c)).ToArray();
        int[] outputIndex = pOut.SelectMany(p => uOut.Select(u => p + u)).ToArray();
        return new ContractionKernel(shape[1..], outRow.Select(c => size[c]).ToArray(), inputIndex, outputIndex, uOut.Length);
    }

    /// <summary>The subscripts with "..." replaced by as many fresh letters as the activation's rank leaves.</summary>
    private (string X, string Output) ExpandEllipsis(int rank)
    {
        if (!_x.Contains("...", StringComparison.Ordinal))
        {
            return (_x, _output);
        }

        int count = rank - (_x.Length - 3);
        string fresh = count < 0 ? throw Unsupported($"subscripts '{_x}' need more axes than the activation's {rank}")
            : new string(Enumerable.Range(0, count).Select(i => (char)('\u0100' + i)).ToArray());
        return (_x.Replace("...", fresh, StringComparison.Ordinal), _output.Replace("...", fresh, StringComparison.Ordinal));
    }

    /// <summary>W rearranged as [units, contracted].</summary>
    private float[] WeightMatrix(string w, ConstantTensor weight)
    {
        Dictionary<char, int> stride = Strides(w, _weightSizes);
        int[] u = Offsets(_units, _weightSizes, stride), c = Offsets(_contracted, _weightSizes, stride);
        return u.SelectMany(uo => c.Select(co => weight.Floats![uo + co])).ToArray();
    }

    private static Dictionary<char, int> Strides(string letters, Dictionary<char, int> size)
    {
        var strides = new Dictionary<char, int>();
        int stride = 1;
        for (int i = letters.Length - 1; i >= 0; i--)
        {
            strides[letters[i]] = stride;
            stride *= size[letters[i]];
        }

        return strides;
    }

    /// <summary>For every combination of <paramref name="letters"/> (C order), its flat offset under <paramref name="stride"/>.</summary>
    private static int[] Offsets(IReadOnlyList<char> letters, Dictionary<char, int> size, Dictionary<char, int> stride)
    {
        int[] offsets = [0];
        foreach (char l in letters)
        {
            offsets = offsets.SelectMany(o => Enumerable.Range(0, size[l]).Select(i => o + (i * stride[l]))).ToArray();
        }

        return offsets;
    }

    /// <summary>Implicit Einsum output: the ellipsis, then the letters used once, alphabetically.</summary>
    private static string ImplicitOutput(string[] operands)
    {
        string letters = string.Concat(operands).Replace("...", string.Empty, StringComparison.Ordinal);
        string once = new(letters.GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key).Order().ToArray());
        return (operands.Any(o => o.Contains("...", StringComparison.Ordinal)) ? "..." : string.Empty) + once;
    }

    private UnsupportedOperatorException Unsupported(string reason) => new(_node.Name, _node.OpType, _node.Domain, _node.Opset, reason);
}
