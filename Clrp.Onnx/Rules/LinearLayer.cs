using System.Collections.Concurrent;
using Clrp.Onnx.Kernels;

namespace Clrp.Onnx.Rules;

/// <summary>
/// The constant parameters of one linear layer — weights [out, …] and an optional bias [out] — with a
/// cache of the transformed weights rules ask for (w⁺, w⁻, w², …), built once and shared by every
/// explanation and thread.
/// </summary>
internal sealed class LinearLayer
{
    private readonly ConcurrentDictionary<string, LinearWeights> _transformed = new(StringComparer.Ordinal);

    public LinearLayer(LinearWeights weights, float[]? bias)
    {
        if (bias is not null && bias.Length != weights.Rows)
        {
            throw new ArgumentException($"bias has {bias.Length} values for {weights.Rows} outputs.");
        }

        Weights = weights;
        Bias = bias;
    }

    public LinearWeights Weights { get; }

    public float[]? Bias { get; }

    /// <summary>The weights with <paramref name="transform"/> applied, cached by its key.</summary>
    public LinearWeights Transformed(WeightTransform transform) =>
        ReferenceEquals(transform, WeightTransform.Identity)
            ? Weights
            : _transformed.GetOrAdd(transform.Key, _ => LinearWeights.Derived(Weights, transform.ApplyTo));

    /// <summary>
    /// The same layer with output unit <paramref name="row"/>'s weights and bias negated: CLRP2's dual
    /// ("the target's last-layer weights negated").
    /// </summary>
    public LinearLayer WithNegatedRow(int row)
    {
        float[] w = (float[])Weights.Values.Clone();
        int columns = Weights.Columns;
        for (int i = row * columns; i < (row + 1) * columns; i++)
        {
            w[i] = -w[i];
        }

        float[]? b = Bias is null ? null : (float[])Bias.Clone();
        if (b is not null)
        {
            b[row] = -b[row];
        }

        return new LinearLayer(new LinearWeights(w, Weights.Rows, Weights.Groups), b);
    }
}
