namespace Clrp.Onnx.Algebra;

/// <summary>Element-wise functions of one value.</summary>
internal enum UnaryOp
{
    /// <summary>−x</summary>
    Negate,

    /// <summary>max(0, x)</summary>
    Relu,

    /// <summary>eˣ</summary>
    Exp,

    /// <summary>tanh x</summary>
    Tanh,

    /// <summary>1 / (1 + e⁻ˣ)</summary>
    Sigmoid,

    /// <summary>|x|</summary>
    Abs,

    /// <summary>1 / x</summary>
    Reciprocal,

    /// <summary>erf x = 2/√π ∫₀ˣ e^(−t²) dt (GELU's derivative)</summary>
    Erf,
}

/// <summary>Element-wise functions of two broadcast values. Comparisons give 1 where true and 0 where false.</summary>
internal enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,

    /// <summary>a − b</summary>
    Subtract,

    /// <summary>a · b</summary>
    Multiply,

    /// <summary>a / b</summary>
    Divide,

    /// <summary>aᵇ</summary>
    Power,

    /// <summary>a &gt; b ? 1 : 0</summary>
    Greater,

    /// <summary>a &lt; b ? 1 : 0</summary>
    Less,
}

/// <summary>Reductions over axes of a value's row (the batch axis is never reduced).</summary>
internal enum ReduceOp
{
    /// <summary>Σ</summary>
    Sum,

    /// <summary>max</summary>
    Max,

    /// <summary>min</summary>
    Min,
}
