using System.Collections.Concurrent;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Rules;

/// <summary>
/// The constant parameters of one linear layer — weights [out, …] and an optional bias [out] — with a
/// cache of the transformed weights rules ask for (w⁺, w⁻, w², …), built once and shared by every
/// explanation and thread. Parameter-free maps (average pools, reductions, linear resizing) are layers
/// without weights (<see cref="ParameterFree"/>): their kernel is the whole map.
/// </summary>
internal sealed class LinearLayer
{
    private readonly ConcurrentDictionary<string, LinearWeights> _transformed = new(StringComparer.Ordinal);
    private readonly Lazy<LinearLayer> _negated;

    public LinearLayer(LinearWeights? weights, float[]? bias)
    {
        if (bias is not null && weights is not null && bias.Length != weights.Rows)
        {
            throw new ArgumentException($"bias has {bias.Length} values for {weights.Rows} outputs.");
        }

        Weights = weights;
        Bias = bias;
        _negated = new Lazy<LinearLayer>(() => new LinearLayer(
            weights is null ? null : LinearWeights.Derived(weights, WeightTransform.Negate),
            bias is null ? null : Array.ConvertAll(bias, b => -b)));
    }

    /// <summary>The layer of a parameter-free kernel: no weights, no bias.</summary>
    public static LinearLayer ParameterFree { get; } = new(null, null);

    public LinearWeights? Weights { get; }

    public float[]? Bias { get; }

    /// <summary>
    /// The same layer with every weight and bias negated: CLRP2's dual applies it to the target unit only
    /// (<c>R(W′) = R(W, R⊙(1−m)) + R(−W, R⊙m)</c>, m the one-hot of the negated unit), so no per-class copy is made.
    /// </summary>
    public LinearLayer Negated => _negated.Value;

    /// <summary>The weights with <paramref name="transform"/> applied, cached by its key (null for parameter-free layers).</summary>
    public LinearWeights? Transformed(WeightTransform transform) =>
        Weights is null || ReferenceEquals(transform, WeightTransform.Identity)
            ? Weights
            : _transformed.GetOrAdd(transform.Key, _ => LinearWeights.Derived(Weights, transform));
}
