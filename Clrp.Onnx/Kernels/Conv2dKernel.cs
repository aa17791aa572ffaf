using System.Buffers;
using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// 2-D convolution with groups, strides, dilations and asymmetric zero padding, weights [M, C/group, kH, kW]:
/// <c>z[b,m,p] = Σ_{c,kh,kw} W[m,c,kh,kw] · x[b, g·C/group + c, oh·sH − pT + kh·dH, ow·sW − pL + kw·dW]</c>
/// (zero outside the input). Forward is im2col + matrix product; the input gradient is
/// <c>col = W_gᵀ · g</c> followed by col2im (a transposed convolution). Output positions are processed in
/// tiles so the column buffer stays a few megabytes whatever the image size.
/// </summary>
internal sealed class Conv2dKernel : ILinearKernel
{
    private const int ColumnBufferFloats = 1 << 20;
    private readonly int _channels;
    private readonly int _outChannels;
    private readonly int _groups;
    private readonly Window2d _window;
    private readonly int _tile;

    public Conv2dKernel(int channels, int outChannels, int groups, Window2d window)
    {
        _channels = channels;
        _outChannels = outChannels;
        _groups = groups;
        _window = window;
        InputShape = [channels, window.InH, window.InW];
        OutputShape = [outChannels, window.OutH, window.OutW];
        int rowsOfColumn = channels / groups * window.KernelH * window.KernelW;
        _tile = Math.Clamp(ColumnBufferFloats / Math.Max(1, rowsOfColumn), 64, Math.Max(64, window.OutPositions));
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    private int ChannelsPerGroup => _channels / _groups;

    private int OutChannelsPerGroup => _outChannels / _groups;

    private int ColumnRows => ChannelsPerGroup * _window.KernelH * _window.KernelW;

    public Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null)
    {
        int batch = x.Shape[0];
        var z = new Tensor(batch, _outChannels, _window.OutH, _window.OutW);
        ForEachSample(batch, (b, parallelInside) =>
        {
            float[] col = ArrayPool<float>.Shared.Rent(ColumnRows * _tile);
            float[] product = ArrayPool<float>.Shared.Rent(OutChannelsPerGroup * _tile);
            try
            {
                for (int g = 0; g < _groups; g++)
                {
                    ReadOnlySpan<float> wg = OrtConvKernel.Required(weights).Values.AsSpan(g * OutChannelsPerGroup * ColumnRows, OutChannelsPerGroup * ColumnRows);
                    for (int p0 = 0; p0 < _window.OutPositions; p0 += _tile)
                    {
                        int width = Math.Min(_tile, _window.OutPositions - p0);
                        Im2Col(x, b, g, p0, width, col);
                        Sgemm.Multiply(wg, col, product, OutChannelsPerGroup, ColumnRows, width);
                        for (int m = 0; m < OutChannelsPerGroup; m++)
                        {
                            int channel = (g * OutChannelsPerGroup) + m;
                            product.AsSpan(m * width, width).CopyTo(z.Data.AsSpan((((b * _outChannels) + channel) * _window.OutPositions) + p0, width));
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(col);
                ArrayPool<float>.Shared.Return(product);
            }
        });
        return z;
    }

    public Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null)
    {
        int batch = g.Shape[0];
        var result = new Tensor(batch, _channels, _window.InH, _window.InW);
        float[] transposed = OrtConvKernel.Required(weights).Transposed;
        ForEachSample(batch, (b, parallelInside) =>
        {
            float[] col = ArrayPool<float>.Shared.Rent(ColumnRows * _tile);
            float[] gradTile = ArrayPool<float>.Shared.Rent(OutChannelsPerGroup * _tile);
            try
            {
                for (int grp = 0; grp < _groups; grp++)
                {
                    ReadOnlySpan<float> wgT = transposed.AsSpan(grp * OutChannelsPerGroup * ColumnRows, OutChannelsPerGroup * ColumnRows);
                    for (int p0 = 0; p0 < _window.OutPositions; p0 += _tile)
                    {
                        int width = Math.Min(_tile, _window.OutPositions - p0);
                        bool any = false;
                        for (int m = 0; m < OutChannelsPerGroup; m++)
                        {
                            int channel = (grp * OutChannelsPerGroup) + m;
                            ReadOnlySpan<float> source = g.Data.AsSpan((((b * _outChannels) + channel) * _window.OutPositions) + p0, width);
                            source.CopyTo(gradTile.AsSpan(m * width, width));
                            any |= source.ContainsAnyExcept(0f);
                        }

                        if (!any)
                        {
                            continue; // relevance is often zero on whole tiles; nothing to scatter
                        }

                        Sgemm.Multiply(wgT, gradTile, col, ColumnRows, OutChannelsPerGroup, width);
                        Col2ImAdd(col, result, b, grp, p0, width);
                    }
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(col);
                ArrayPool<float>.Shared.Return(gradTile);
            }
        });
        return result;
    }

    public string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights) =>
        ConvEmission.Conv(emitter, x, OrtConvKernel.Required(weights).Name, Window.From(_window), _groups);

    public string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights) =>
        ConvEmission.Adjoint(emitter, g, OrtConvKernel.Required(weights).Name, Window.From(_window), _groups, InputShape[0]);

    public string EmitAddBias(OnnxEmitter emitter, string z, float[] bias) => ConvEmission.AddChannelBias(emitter, z, bias);

    public (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights) =>
        (weights.Values, [weights.Rows, ChannelsPerGroup, _window.KernelH, _window.KernelW]);

    public void AddBias(Tensor z, float[] bias)
    {
        int positions = _window.OutPositions;
        for (int b = 0; b < z.Shape[0]; b++)
        {
            for (int m = 0; m < _outChannels; m++)
            {
                z.Data.AsSpan(((b * _outChannels) + m) * positions, positions).Add(bias[m]);
            }
        }
    }

    /// <summary>Samples run in parallel when there are several; a single sample parallelises inside the matrix product instead.</summary>
    private static void ForEachSample(int batch, Action<int, bool> body)
    {
        if (batch == 1)
        {
            body(0, true);
        }
        else
        {
            Parallel.For(0, batch, b => body(b, false));
        }
    }

    /// <summary>col[r, t] = x[b, g·Cg + c, ih, iw] for row r = (c, kh, kw) and output position p0 + t; 0 in the padding.</summary>
    private void Im2Col(Tensor x, int b, int group, int p0, int width, float[] col)
    {
        Window2d w = _window;
        int inPositions = w.InPositions;
        for (int c = 0; c < ChannelsPerGroup; c++)
        {
            int channelBase = ((b * _channels) + (group * ChannelsPerGroup) + c) * inPositions;
            for (int kh = 0; kh < w.KernelH; kh++)
            {
                for (int kw = 0; kw < w.KernelW; kw++)
                {
                    int row = (((c * w.KernelH) + kh) * w.KernelW) + kw;
                    Span<float> dest = col.AsSpan(row * width, width);
                    for (int t = 0; t < width; t++)
                    {
                        int p = p0 + t;
                        int ih = ((p / w.OutW) * w.StrideH) - w.PadTop + (kh * w.DilationH);
                        int iw = ((p % w.OutW) * w.StrideW) - w.PadLeft + (kw * w.DilationW);
                        dest[t] = (uint)ih < (uint)w.InH && (uint)iw < (uint)w.InW ? x.Data[channelBase + (ih * w.InW) + iw] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>The adjoint of <see cref="Im2Col"/>: adds col[r, t] into the input element it was read from.</summary>
    private void Col2ImAdd(float[] col, Tensor result, int b, int group, int p0, int width)
    {
        Window2d w = _window;
        int inPositions = w.InPositions;
        for (int c = 0; c < ChannelsPerGroup; c++)
        {
            int channelBase = ((b * _channels) + (group * ChannelsPerGroup) + c) * inPositions;
            for (int kh = 0; kh < w.KernelH; kh++)
            {
                for (int kw = 0; kw < w.KernelW; kw++)
                {
                    int row = (((c * w.KernelH) + kh) * w.KernelW) + kw;
                    ReadOnlySpan<float> source = col.AsSpan(row * width, width);
                    for (int t = 0; t < width; t++)
                    {
                        int p = p0 + t;
                        int ih = ((p / w.OutW) * w.StrideH) - w.PadTop + (kh * w.DilationH);
                        int iw = ((p % w.OutW) * w.StrideW) - w.PadLeft + (kw * w.DilationW);
                        if ((uint)ih < (uint)w.InH && (uint)iw < (uint)w.InW)
                        {
                            result.Data[channelBase + (ih * w.InW) + iw] += source[t];
                        }
                    }
                }
            }
        }
    }
}
