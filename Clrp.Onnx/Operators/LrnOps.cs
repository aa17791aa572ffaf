using Clrp.Onnx.Graph;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Operators;

/// <summary>LRN (local response normalisation across channels, AlexNet/GoogLeNet): opsets 1–22.</summary>
internal static class LrnOps
{
    public static void Register(OperatorRegistry registry) => registry.Register("LRN", 1, 22, (n, _) => new LrnPropagator(n));
}

/// <summary>
/// LRN <c>y_c = x_c·d_c^(−β)</c>, <c>d_c = bias + α/size·Σ_{i∈N(c)} x_i²</c>, N(c) = channels
/// [c − ⌊(size−1)/2⌋, c + ⌈(size−1)/2⌉]. Relevance passes unchanged (DESIGN §1: a
/// normalisation read as an activation). Gradient: <c>g_x_i = g_i·d_i^(−β) − (2αβ/size)·x_i·Σ_{c: i∈N(c)} g_c·x_c·d_c^(−β−1)</c>.
/// </summary>
internal sealed class LrnPropagator : IOperatorPropagator
{
    private readonly Node _node;
    private readonly float _alpha;
    private readonly float _beta;
    private readonly float _bias;
    private readonly int _size;

    public LrnPropagator(Node node)
    {
        _node = node;
        _alpha = node.Attributes.GetFloat("alpha", 1e-4f);
        _beta = node.Attributes.GetFloat("beta", 0.75f);
        _bias = node.Attributes.GetFloat("bias", 1f);
        _size = (int)node.Attributes.GetInt("size", 0);
        if (_size <= 0)
        {
            throw new UnsupportedOperatorException(node.Name, node.OpType, node.Domain, node.Opset, "the required attribute 'size' is missing or not positive");
        }
    }

    public IEnumerable<string> RequiredValues => [_node.Input(0)];

    public bool IsLinear => false;

    public Tensor?[] Propagate(Tensor?[] outputRelevance, PropagationContext context)
    {
        Tensor r = context.ShapedLike(outputRelevance[0]!, _node.Input(0));
        if (context.Mode == PropagationMode.Relevance)
        {
            return [r];
        }

        Tensor x = context.Activation(_node.Input(0));
        int channels = x.Shape[1], length = x.RowLength, inner = length / channels;
        int below = (_size - 1) / 2, above = _size - 1 - below;
        var g = context.NewTensor(r.Shape);
        var d = new double[length];
        for (int row = 0; row < context.Rows; row++)
        {
            ReadOnlySpan<float> xs = x.Data.AsSpan(context.RowImage[row] * length, length);
            ReadOnlySpan<float> gs = r.Data.AsSpan(row * length, length);
            Span<float> result = g.Data.AsSpan(row * length, length);
            for (int p = 0; p < inner; p++)
            {
                for (int c = 0; c < channels; c++)
                {
                    double sum = 0;
                    for (int i = Math.Max(0, c - below); i <= Math.Min(channels - 1, c + above); i++)
                    {
                        sum += (double)xs[(i * inner) + p] * xs[(i * inner) + p];
                    }

                    d[(c * inner) + p] = _bias + (_alpha / _size * sum);
                }

                for (int i = 0; i < channels; i++)
                {
                    // Channels c whose window N(c) contains i: i − above ≤ c ≤ i + below.
                    double cross = 0;
                    for (int c = Math.Max(0, i - above); c <= Math.Min(channels - 1, i + below); c++)
                    {
                        int k = (c * inner) + p;
                        cross += gs[k] * (double)xs[k] * Math.Pow(d[k], -_beta - 1);
                    }

                    int at = (i * inner) + p;
                    result[at] = (float)((gs[at] * Math.Pow(d[at], -_beta)) - (2.0 * _alpha * _beta / _size * xs[at] * cross));
                }
            }
        }

        return [g];
    }
}
