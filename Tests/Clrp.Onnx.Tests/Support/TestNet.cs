namespace Clrp.Onnx.Tests.Support;

/// <summary>Chooses the float64 reference rule of a linear layer from (is it a Conv, is it the first linear layer).</summary>
internal delegate Func<DenseMatrix, double[], double[], double[]> ReferenceRuleSelector(bool isConv, bool isFirst);

/// <summary>
/// Builds a small feed-forward ONNX model (with <see cref="OnnxBuilder"/>, symbolic batch axis "N") and, in
/// lockstep, its independent float64 <see cref="ReferenceNet"/> from the same random weights: each ONNX node
/// is mirrored by a reference layer written from the operator's definition (explicit matrices and windows).
/// </summary>
internal sealed class TestNet
{
    private readonly OnnxBuilder _onnx;
    private readonly List<ReferenceLayer> _layers = [];
    private readonly Random _random;
    private readonly ReferenceRuleSelector _rules;
    private string _value = "x";
    private int _c, _h, _w;
    private int _count;
    private bool _anyLinear;

    /// <summary>An image net: input x [N, c, h, w] (batch axis fixed at 1 with <paramref name="fixedBatch"/>).</summary>
    public TestNet(Random random, int c, int h, int w, ReferenceRuleSelector? rules = null, int opset = 17, bool fixedBatch = false)
    {
        _random = random;
        _rules = rules ?? ((_, _) => ReferenceLinear.Epsilon());
        _onnx = new OnnxBuilder(opset).Input("x", fixedBatch ? 1 : "N", c, h, w);
        (_c, _h, _w) = (c, h, w);
        InputShape = [c, h, w];
    }

    /// <summary>A vector net: input x [N, features].</summary>
    public TestNet(Random random, int features, ReferenceRuleSelector? rules = null, int opset = 17)
    {
        _random = random;
        _rules = rules ?? ((_, _) => ReferenceLinear.Epsilon());
        _onnx = new OnnxBuilder(opset).Input("x", "N", features);
        (_c, _h, _w) = (features, 1, 1);
        InputShape = [features];
    }

    /// <summary>Per-image input shape.</summary>
    public int[] InputShape { get; }

    public int InputLength => InputShape.Aggregate(1, (a, b) => a * b);

    /// <summary>The current value's per-image element count.</summary>
    private int Features => _c * _h * _w;

    /// <summary>The ONNX builder, for extra nodes the tests add by hand.</summary>
    public OnnxBuilder Onnx => _onnx;

    public TestNet Conv(int outC, int k, (int H, int W)? stride = null, (int Top, int Left, int Bottom, int Right)? pads = null, (int H, int W)? dilation = null,
        int group = 1, bool bias = true, string? autoPad = null, (int Top, int Left, int Bottom, int Right)? autoPadsForReference = null, int? kW = null, string? weightsFrom = null)
    {
        (int H, int W) s = stride ?? (1, 1), d = dilation ?? (1, 1);
        (int Top, int Left, int Bottom, int Right) p = autoPadsForReference ?? pads ?? (0, 0, 0, 0);
        int kh = k, kw = kW ?? k;
        int fanIn = _c / group * kh * kw;
        float[] w = RandomData.Normal(_random, outC * fanIn, 1.5 / Math.Sqrt(fanIn));
        float[]? b = bias ? RandomData.Normal(_random, outC, 0.3) : null;
        string name = Next("conv");
        var attributes = new List<Proto.AttributeProto> { OnnxBuilder.Ints("strides", s.H, s.W), OnnxBuilder.Ints("dilations", d.H, d.W), OnnxBuilder.Int("group", group), OnnxBuilder.Ints("kernel_shape", kh, kw) };
        attributes.Add(autoPad is null ? OnnxBuilder.Ints("pads", p.Top, p.Left, p.Bottom, p.Right) : OnnxBuilder.String("auto_pad", autoPad));
        if (weightsFrom == "constant")
        {
            _onnx.Constant(name + "_w", w, [outC, _c / group, kh, kw]);
        }
        else
        {
            _onnx.Initializer(name + "_w", w, [outC, _c / group, kh, kw], raw: weightsFrom != "float_data");
        }

        if (b is not null)
        {
            _onnx.Initializer(name + "_b", b, [outC]);
        }

        string output = name + "_y";
        _onnx.Node("Conv", b is null ? [_value, name + "_w"] : [_value, name + "_w", name + "_b"], [output], name, [.. attributes]);
        DenseMatrix m = DenseMatrix.Conv(w, b, _c, _h, _w, outC, kh, kw, group, s, p, d);
        _layers.Add(new ReferenceLinear(m, _rules(isConv: true, isFirst: !_anyLinear)));
        _anyLinear = true;
        _c = outC;
        _h = ((_h + p.Top + p.Bottom - ((d.H * (kh - 1)) + 1)) / s.H) + 1;
        _w = ((_w + p.Left + p.Right - ((d.W * (kw - 1)) + 1)) / s.W) + 1;
        _value = output;
        return this;
    }

    /// <summary>A Gemm y = x·Wᵀ + b (transB = 1) or y = x·W + b with W stored [in, out] (transB = 0).</summary>
    public TestNet Gemm(int outputs, bool bias = true, bool transB = true)
    {
        int inputs = Features;
        float[] w = RandomData.Normal(_random, outputs * inputs, 1.5 / Math.Sqrt(inputs)); // [out, in]
        float[]? b = bias ? RandomData.Normal(_random, outputs, 0.3) : null;
        string name = Next("gemm");
        float[] stored = transB ? w : Transpose(w, outputs, inputs);
        _onnx.Initializer(name + "_w", stored, transB ? [outputs, inputs] : [inputs, outputs]);
        if (b is not null)
        {
            _onnx.Initializer(name + "_b", b, [outputs]);
        }

        string output = name + "_y";
        _onnx.Node("Gemm", b is null ? [_value, name + "_w"] : [_value, name + "_w", name + "_b"], [output], name, OnnxBuilder.Int("transB", transB ? 1 : 0));
        _layers.Add(new ReferenceLinear(DenseMatrix.Dense(w, b, outputs, inputs), _rules(isConv: false, isFirst: !_anyLinear)));
        _anyLinear = true;
        (_c, _h, _w) = (outputs, 1, 1);
        _value = output;
        return this;
    }

    /// <summary>MatMul by a constant [in, out] followed by Add of a constant [out] (on the left when <paramref name="biasFirst"/>).</summary>
    public TestNet MatMulAdd(int outputs, bool biasFirst = false)
    {
        int inputs = Features;
        float[] w = RandomData.Normal(_random, outputs * inputs, 1.5 / Math.Sqrt(inputs)); // [out, in]
        float[] b = RandomData.Normal(_random, outputs, 0.3);
        string name = Next("matmul");
        _onnx.Initializer(name + "_w", Transpose(w, outputs, inputs), [inputs, outputs]);
        _onnx.Initializer(name + "_b", b, [outputs]);
        _onnx.Node("MatMul", [_value, name + "_w"], [name + "_p"], name);
        _onnx.Node("Add", biasFirst ? [name + "_b", name + "_p"] : [name + "_p", name + "_b"], [name + "_y"], name + "_add");
        _layers.Add(new ReferenceLinear(DenseMatrix.Dense(w, b, outputs, inputs), _rules(isConv: false, isFirst: !_anyLinear)));
        _anyLinear = true;
        (_c, _h, _w) = (outputs, 1, 1);
        _value = name + "_y";
        return this;
    }

    /// <summary>MatMul by a constant [in, out], no bias.</summary>
    public TestNet MatMul(int outputs)
    {
        int inputs = Features;
        float[] w = RandomData.Normal(_random, outputs * inputs, 1.5 / Math.Sqrt(inputs)); // [out, in]
        string name = Next("matmul");
        _onnx.Initializer(name + "_w", Transpose(w, outputs, inputs), [inputs, outputs]);
        _onnx.Node("MatMul", [_value, name + "_w"], [name + "_y"], name);
        _layers.Add(new ReferenceLinear(DenseMatrix.Dense(w, null, outputs, inputs), _rules(isConv: false, isFirst: !_anyLinear)));
        _anyLinear = true;
        (_c, _h, _w) = (outputs, 1, 1);
        _value = name + "_y";
        return this;
    }

    public TestNet Relu() => Elementwise("Relu", new ReferenceRelu());

    /// <summary>A node that the engine must treat as the identity (Identity, Dropout); no reference layer.</summary>
    public TestNet PassThrough(string opType)
    {
        string name = Next(opType.ToLowerInvariant());
        _onnx.Node(opType, [_value], [name + "_y"], name);
        _value = name + "_y";
        return this;
    }

    public TestNet MaxPool(int k, int s, (int Top, int Left, int Bottom, int Right) pads = default, bool ceil = false)
    {
        (int outH, int outW) = PoolOutput(k, s, pads, ceil);
        int[][] windows = DenseMatrix.PoolWindows(_c, _h, _w, k, k, (s, s), (pads.Top, pads.Left), outH, outW);
        Pool("MaxPool", k, s, pads, ceil, null, new ReferenceMaxPool(windows, Features));
        (_h, _w) = (outH, outW);
        return this;
    }

    public TestNet AveragePool(int k, int s, (int Top, int Left, int Bottom, int Right) pads, bool countIncludePad, bool ceil = false)
    {
        (int outH, int outW) = PoolOutput(k, s, pads, ceil);
        DenseMatrix m = DenseMatrix.AveragePool(_c, _h, _w, k, k, (s, s), (pads.Top, pads.Left), outH, outW, countIncludePad);
        Pool("AveragePool", k, s, pads, ceil, countIncludePad, new ReferenceAveragePool(m));
        (_h, _w) = (outH, outW);
        return this;
    }

    public TestNet GlobalAveragePool()
    {
        DenseMatrix m = DenseMatrix.AveragePool(_c, _h, _w, _h, _w, (1, 1), (0, 0), 1, 1, countIncludePad: false);
        Elementwise("GlobalAveragePool", new ReferenceAveragePool(m));
        (_h, _w) = (1, 1);
        return this;
    }

    public TestNet GlobalMaxPool()
    {
        Elementwise("GlobalMaxPool", new ReferenceMaxPool(DenseMatrix.PoolWindows(_c, _h, _w, _h, _w, (1, 1), (0, 0), 1, 1), Features));
        (_h, _w) = (1, 1);
        return this;
    }

    public TestNet Flatten()
    {
        string name = Next("flatten");
        _onnx.Node("Flatten", [_value], [name + "_y"], name, OnnxBuilder.Int("axis", 1));
        _value = name + "_y";
        (_c, _h, _w) = (Features, 1, 1);
        return this;
    }

    /// <summary>Reshape to [N, features] with the shape [0, -1] from an int64 initializer or a Constant node.</summary>
    public TestNet Reshape(bool shapeFromConstantNode = false)
    {
        string name = Next("reshape");
        if (shapeFromConstantNode)
        {
            _onnx.ConstantInt64(name + "_shape", [0, -1], [2]);
        }
        else
        {
            _onnx.Int64Initializer(name + "_shape", [0, -1], [2]);
        }

        _onnx.Node("Reshape", [_value, name + "_shape"], [name + "_y"], name);
        _value = name + "_y";
        (_c, _h, _w) = (Features, 1, 1);
        return this;
    }

    /// <summary>A final Softmax or LogSoftmax (axis 1); the reference stops at its input (the logits).</summary>
    public TestNet Softmax(string opType = "Softmax")
    {
        string name = Next(opType.ToLowerInvariant());
        _onnx.Node(opType, [_value], [name + "_y"], name, OnnxBuilder.Int("axis", 1));
        _value = name + "_y";
        return this;
    }

    /// <summary>The last value's name (the model output).</summary>
    public string OutputName => _value;

    /// <summary>The model bytes and the float64 reference.</summary>
    public (byte[] Model, ReferenceNet Reference) Build()
    {
        _onnx.Output(_value);
        return (_onnx.ToBytes(), new ReferenceNet([.. _layers]));
    }

    private TestNet Elementwise(string opType, ReferenceLayer layer)
    {
        string name = Next(opType.ToLowerInvariant());
        _onnx.Node(opType, [_value], [name + "_y"], name);
        _layers.Add(layer);
        _value = name + "_y";
        return this;
    }

    private void Pool(string opType, int k, int s, (int Top, int Left, int Bottom, int Right) pads, bool ceil, bool? countIncludePad, ReferenceLayer layer)
    {
        string name = Next(opType.ToLowerInvariant());
        var attributes = new List<Proto.AttributeProto>
        {
            OnnxBuilder.Ints("kernel_shape", k, k), OnnxBuilder.Ints("strides", s, s), OnnxBuilder.Ints("pads", pads.Top, pads.Left, pads.Bottom, pads.Right),
            OnnxBuilder.Int("ceil_mode", ceil ? 1 : 0),
        };
        if (countIncludePad is bool include)
        {
            attributes.Add(OnnxBuilder.Int("count_include_pad", include ? 1 : 0));
        }

        _onnx.Node(opType, [_value], [name + "_y"], name, [.. attributes]);
        _layers.Add(layer);
        _value = name + "_y";
    }

    /// <summary>ONNX pool output size: floor or ceil of (in + pads − k)/s + 1; with ceil_mode the last window must start inside the input or its leading pad.</summary>
    private (int H, int W) PoolOutput(int k, int s, (int Top, int Left, int Bottom, int Right) pads, bool ceil)
    {
        int Size(int input, int begin, int end)
        {
            double span = (input + begin + end - k) / (double)s;
            int output = (int)(ceil ? Math.Ceiling(span) : Math.Floor(span)) + 1;
            return ceil && (output - 1) * s >= input + begin ? output - 1 : output;
        }

        return (Size(_h, pads.Top, pads.Bottom), Size(_w, pads.Left, pads.Right));
    }

    private string Next(string prefix) => $"{prefix}{_count++}";

    private static float[] Transpose(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                t[(c * rows) + r] = w[(r * cols) + c];
            }
        }

        return t;
    }
}
