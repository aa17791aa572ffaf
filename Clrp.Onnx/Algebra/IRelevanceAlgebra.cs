using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Algebra;

/// <summary>
/// The small algebra every rule and operator propagator is written in, once, with two interpreters (DESIGN §2):
/// <see cref="EagerAlgebra"/> computes tensors (the managed engine, the reference) and <see cref="EmittingAlgebra"/>
/// writes ONNX nodes (the compiled engine, and the rule denominators the managed engine's capture run computes).
/// <para>
/// Values carry a batch kind (<see cref="ValueKind"/>) and a row shape. Element-wise operations broadcast row shapes the
/// NumPy way (right-aligned) and pair every relevance row with its own image. Reductions, slices and concatenations
/// work on row axes (axis 0 is the first axis after the batch axis).
/// </para>
/// </summary>
internal interface IRelevanceAlgebra
{
    /// <summary>The forward value <paramref name="name"/> of the explained batch (per image).</summary>
    RelValue Activation(string name);

    /// <summary>A constant shared by every image and row, <paramref name="values"/> in C order over <paramref name="rowShape"/>.</summary>
    RelValue Constant(float[] values, int[] rowShape);

    /// <summary>Relevance rows of zeros.</summary>
    RelValue Zeros(int[] rowShape);

    /// <summary><c>f(x)</c> element by element.</summary>
    RelValue Unary(UnaryOp op, RelValue x);

    /// <summary><c>a ∘ b</c> element by element, broadcast.</summary>
    RelValue Binary(BinaryOp op, RelValue a, RelValue b);

    /// <summary><c>condition ≠ 0 ? whenTrue : whenFalse</c>, broadcast (condition a 0/1 comparison result).</summary>
    RelValue Where(RelValue condition, RelValue whenTrue, RelValue whenFalse);

    /// <summary>
    /// <c>s = R / stab(z)</c> with <c>stab(z) = z + ε·(z ≥ 0 ? 1 : −1)</c>; where stab(z) is exactly 0 (possible only with ε = 0)
    /// the relevance is dropped (s = 0) instead of becoming NaN or ±Inf. <paramref name="knownSign"/> is +1 (−1) when z ≥ 0
    /// (z ≤ 0) by construction, a plan-time fact (z⁺: Σ of non-negative products) that saves the sign test; 0 when unknown.
    /// </summary>
    RelValue DivideStabilized(RelValue relevance, RelValue denominator, float epsilon, int knownSign = 0);

    /// <summary>The same elements seen with another row shape of equal size.</summary>
    RelValue Reshape(RelValue x, int[] rowShape);

    /// <summary><paramref name="x"/> repeated along its size-1 (or missing leading) row axes to <paramref name="rowShape"/>.</summary>
    RelValue BroadcastTo(RelValue x, int[] rowShape);

    /// <summary>The adjoint of broadcasting: sums <paramref name="x"/> over the axes where <paramref name="rowShape"/> has 1 or no axis.</summary>
    RelValue SumTo(RelValue x, int[] rowShape);

    /// <summary>Reduces the row axes <paramref name="rowAxes"/>, keeping them with size 1.</summary>
    RelValue Reduce(ReduceOp op, RelValue x, int[] rowAxes);

    /// <summary>Elements [start, start + length) of row axis <paramref name="rowAxis"/>.</summary>
    RelValue Slice(RelValue x, int rowAxis, int start, int length);

    /// <summary>Joins <paramref name="parts"/> (all of one kind) along row axis <paramref name="rowAxis"/>.</summary>
    RelValue Concat(IReadOnlyList<RelValue> parts, int rowAxis);

    /// <summary><c>z = W ∗ x</c> by <paramref name="kernel"/> (no bias), with <paramref name="weights"/> (null for parameter-free kernels).</summary>
    RelValue Forward(ILinearKernel kernel, RelValue x, LinearWeights? weights);

    /// <summary>The transposed map <c>g_in = Wᵀ g</c> of <paramref name="kernel"/>.</summary>
    RelValue Adjoint(ILinearKernel kernel, RelValue g, LinearWeights? weights);

    /// <summary><c>z + b</c> with <c>b[o]</c> added to output unit (channel) o of <paramref name="kernel"/>.</summary>
    RelValue AddBias(ILinearKernel kernel, RelValue z, float[] bias);

    /// <summary>
    /// Winner-take-all redistribution over the windows of <paramref name="windows"/> (max pooling): each output j's relevance
    /// goes to the inputs of its window equal to the window's maximum of <paramref name="x"/>, shared equally among ties.
    /// </summary>
    RelValue WinnerTakeAll(SparseKernel windows, RelValue x, RelValue relevance);

    /// <summary>
    /// CLRP2's mask: relevance rows of <paramref name="rowShape"/> holding 1 on the logit layer's negated unit (row axis 0,
    /// the target class) of every dual row, and 0 elsewhere.
    /// </summary>
    RelValue NegationMask(int[] rowShape);

    /// <summary>True when <paramref name="x"/> is a constant known to be all zero (its products can be skipped in both interpreters).</summary>
    bool IsKnownZero(RelValue x);
}
