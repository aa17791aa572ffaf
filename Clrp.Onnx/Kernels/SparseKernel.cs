using Clrp.Onnx.Emitting;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// A parameter-free linear map given by a table of taps, the same for every block of a sample:
/// <code>
///   y[blk, j] = Σ_t w[j, t] · x[blk, idx[j, t]]          (idx = −1: no tap; w = 1 when no weights are given)
/// </code>
/// with <c>blk</c> over <see cref="Blocks"/> leading groups of elements (channels) that the table repeats over. It is what
/// average pooling (w = 1/count over each window), reductions (w = 1 or 1/count), linear and nearest resizing (the
/// interpolation taps) and routing ops (Transpose, Slice, Pad, Expand: one tap of weight 1) compute, and its adjoint is
/// how relevance and gradients return through them. Max pooling reads the same windows (<see cref="Algebra.IRelevanceAlgebra.WinnerTakeAll"/>).
/// <para>
/// Both interpreters read the one table: the eager kernel loops over it; the emitted form gathers the taps
/// (<c>Gather</c>, <c>Mul</c>, <c>ReduceSum</c>) and returns through the inverse table (for every input element, the
/// taps that read it), so no scatter-add is needed and any opset from 7 works.
/// </para>
/// </summary>
internal sealed class SparseKernel : ILinearKernel
{
    private readonly Lazy<(int[] Entries, int Width)> _inverseByOutput;
    private readonly Lazy<(int[] Entries, int Width)> _inverseByTap;

    /// <param name="inputShape">One sample's input shape.</param>
    /// <param name="outputShape">One sample's output shape.</param>
    /// <param name="blocks">How many leading groups of elements the table repeats over (divides both lengths).</param>
    /// <param name="taps">Taps per output element.</param>
    /// <param name="index">[j·taps + t]: the input element (within its block) tap t of output j reads, or −1.</param>
    /// <param name="weight">[j·taps + t]: the tap's weight; null for all 1.</param>
    public SparseKernel(int[] inputShape, int[] outputShape, int blocks, int taps, int[] index, float[]? weight)
    {
        InputShape = inputShape;
        OutputShape = outputShape;
        Blocks = blocks;
        Taps = taps;
        Index = index;
        Weight = weight;
        int inLength = Tensor.CheckedCount(inputShape), outLength = Tensor.CheckedCount(outputShape);
        if (blocks <= 0 || taps <= 0 || inLength % blocks != 0 || outLength % blocks != 0
            || index.Length != outLength / blocks * taps || (weight is not null && weight.Length != index.Length))
        {
            throw new ArgumentException($"a tap table of {index.Length} entries ({taps} taps, {blocks} blocks) does not describe {Tensor.FormatShape(inputShape)} → {Tensor.FormatShape(outputShape)}.");
        }

        InBlock = inLength / blocks;
        OutBlock = outLength / blocks;
        foreach (int i in index)
        {
            if (i < -1 || i >= InBlock)
            {
                throw new ArgumentException($"tap index {i} is outside a block of {InBlock} input elements.");
            }
        }

        _inverseByOutput = new(() => Inverse(byTap: false));
        _inverseByTap = new(() => Inverse(byTap: true));
    }

    public int[] InputShape { get; }

    public int[] OutputShape { get; }

    /// <summary>Leading groups the table repeats over.</summary>
    public int Blocks { get; }

    /// <summary>Input elements per block.</summary>
    public int InBlock { get; }

    /// <summary>Output elements per block.</summary>
    public int OutBlock { get; }

    /// <summary>Taps per output element.</summary>
    public int Taps { get; }

    /// <summary>[j·Taps + t]: input element (within the block) or −1.</summary>
    public int[] Index { get; }

    /// <summary>[j·Taps + t]: tap weight, or null for 1.</summary>
    public float[]? Weight { get; }

    /// <summary>
    /// Set when the table is a pool whose windows tile each block's H×W plane exactly (stride = kernel, no pads, no
    /// dilation; global pooling is one tile): the emitted forms then reshape [H, W] to [H/th, th, W/tw, tw] and reduce the
    /// tile axes instead of gathering taps. The table stays the definition; this is an equivalent layout of it.
    /// </summary>
    public PlaneTiles? Tiles { get; init; }

    /// <summary>A routing op's kernel: output element j copies input element <paramref name="map"/>[j] (−1: a constant cell).</summary>
    public static SparseKernel Route(int[] inputShape, int[] outputShape, int[] map) => new(inputShape, outputShape, 1, 1, map, null);

    public Tensor Forward(Tensor x, LinearWeights? weights, BufferPool? pool = null)
    {
        int batch = x.Shape[0];
        Tensor y = pool?.Rent([batch, .. OutputShape]) ?? new Tensor([batch, .. OutputShape]);
        float[] xs = x.Data, ys = y.Data;
        Parallel.For(0, batch * Blocks, Options(batch), b =>
        {
            int inBase = b * InBlock, outBase = b * OutBlock;
            for (int j = 0; j < OutBlock; j++)
            {
                float sum = 0f;
                for (int t = 0, k = j * Taps; t < Taps; t++, k++)
                {
                    int i = Index[k];
                    if (i >= 0)
                    {
                        sum += (Weight is null ? 1f : Weight[k]) * xs[inBase + i];
                    }
                }

                ys[outBase + j] = sum;
            }
        });
        return y;
    }

    public Tensor InputGradient(Tensor g, LinearWeights? weights, BufferPool? pool = null)
    {
        int batch = g.Shape[0];
        Tensor result = pool?.Rent([batch, .. InputShape]) ?? new Tensor([batch, .. InputShape]);
        float[] gs = g.Data, rs = result.Data;
        Parallel.For(0, batch * Blocks, Options(batch), b =>
        {
            int inBase = b * InBlock, outBase = b * OutBlock;
            for (int j = 0; j < OutBlock; j++)
            {
                float gj = gs[outBase + j];
                if (gj == 0f)
                {
                    continue;
                }

                for (int t = 0, k = j * Taps; t < Taps; t++, k++)
                {
                    int i = Index[k];
                    if (i >= 0)
                    {
                        rs[inBase + i] += (Weight is null ? 1f : Weight[k]) * gj;
                    }
                }
            }
        });
        return result;
    }

    public void AddBias(Tensor z, float[] bias) => throw new InvalidOperationException("a parameter-free map has no bias.");

    public string EmitForward(OnnxEmitter emitter, string x, EmittedWeights? weights)
    {
        if (Tiles is { } tiles)
        {
            string tiled = tiles.Split(emitter, x, Blocks);
            string scaled = Weight is null ? tiled : emitter.Node("Mul", [tiled, emitter.Scalar(Weight[0])]);
            return emitter.Reshape(emitter.Reduce("ReduceSum", scaled, [3, 5], keepDims: false), [-1, .. Array.ConvertAll(OutputShape, d => (long)d)]);
        }

        string blocked = emitter.Reshape(x, -1, Blocks, InBlock);
        bool identity = Taps * OutBlock == InBlock && IsIdentity(Index);
        string gathered = identity ? blocked : emitter.Node("Gather", [blocked, emitter.Longs(Array.ConvertAll(Index, i => (long)Math.Max(i, 0)), [Index.Length])], OnnxEmitter.Int("axis", 2));
        float[]? w = EffectiveWeights();
        string weighted = w is null ? gathered : emitter.Node("Mul", [gathered, emitter.Floats(w, [w.Length], "taps")]);
        string summed = Taps == 1 ? weighted : emitter.Reduce("ReduceSum", emitter.Reshape(weighted, -1, Blocks, OutBlock, Taps), [3], keepDims: false);
        return emitter.Reshape(summed, [-1, .. Array.ConvertAll(OutputShape, d => (long)d)]);
    }

    public string EmitAdjoint(OnnxEmitter emitter, string g, EmittedWeights? weights)
    {
        if (Tiles is { } tiles)
        {
            // Every tap of a tile receives w·g of its output: broadcast over the tile axes.
            string perTile = emitter.Reshape(g, -1, Blocks, tiles.OutH, 1, tiles.OutW, 1);
            string spread = emitter.Node("Mul", [perTile, emitter.Filled(Weight?[0] ?? 1f, [1, 1, 1, tiles.TileH, 1, tiles.TileW], "tile")]);
            return emitter.Reshape(spread, [-1, .. Array.ConvertAll(InputShape, d => (long)d)]);
        }

        // Contributions per (output j, tap t) when taps are weighted; else every tap of j carries g[j] and the inverse
        // table points at j directly.
        string blocked = emitter.Reshape(g, -1, Blocks, OutBlock);
        string contributions = blocked;
        (int[] entries, int width) = Weight is null ? _inverseByOutput.Value : _inverseByTap.Value;
        int slots = OutBlock;
        if (Weight is not null)
        {
            slots = OutBlock * Taps;
            string perTap = emitter.Node("Mul", [emitter.Reshape(blocked, -1, Blocks, OutBlock, 1), emitter.Floats(Weight, [OutBlock, Taps], "taps")]);
            contributions = emitter.Reshape(perTap, -1, Blocks, slots);
        }

        return Fold(emitter, contributions, slots, entries, width);
    }

    /// <summary>
    /// Emits the return through the inverse table: <c>R_in[blk, i] = Σ_m c[blk, inverse[i, m]]</c> over the contributions
    /// <paramref name="contributions"/> ([B, Blocks, slots]); entry <paramref name="slots"/> is an appended zero.
    /// </summary>
    internal string Fold(OnnxEmitter emitter, string contributions, int slots, int[] entries, int width)
    {
        long[] inputShape = [-1, .. Array.ConvertAll(InputShape, d => (long)d)];
        if (width == 1 && slots == InBlock && IsIdentity(entries))
        {
            return emitter.Reshape(contributions, inputShape);
        }

        bool needsZero = entries.Any(e => e == slots);
        string source = needsZero ? emitter.Pad(contributions, [0, 0, 0, 0, 0, 1], 0f) : contributions;
        string gathered = emitter.Node("Gather", [source, emitter.Longs(Array.ConvertAll(entries, e => (long)e), [InBlock, width])], OnnxEmitter.Int("axis", 2));
        string summed = width == 1 ? gathered : emitter.Reduce("ReduceSum", gathered, [3], keepDims: false);
        return emitter.Reshape(summed, inputShape);
    }

    public string EmitAddBias(OnnxEmitter emitter, string z, float[] bias) => throw new InvalidOperationException("a parameter-free map has no bias.");

    public (float[] Values, int[] Shape) OnnxWeights(LinearWeights weights) => throw new InvalidOperationException("a parameter-free map has no weights.");

    /// <summary>
    /// For every input element i of a block, the slots that read it, padded with the zero slot to the widest count:
    /// slots are output elements j (<paramref name="byTap"/> false) or (j, t) pairs j·Taps + t (true).
    /// </summary>
    internal (int[] Entries, int Width) Inverse(bool byTap)
    {
        int slots = byTap ? OutBlock * Taps : OutBlock;
        var count = new int[InBlock];
        for (int k = 0; k < Index.Length; k++)
        {
            if (Index[k] >= 0)
            {
                count[Index[k]]++;
            }
        }

        int width = Math.Max(1, count.Max());
        var entries = new int[InBlock * width];
        Array.Fill(entries, slots);
        var filled = new int[InBlock];
        for (int k = 0; k < Index.Length; k++)
        {
            int i = Index[k];
            if (i >= 0)
            {
                entries[(i * width) + filled[i]++] = byTap ? k : k / Taps;
            }
        }

        return (entries, width);
    }

    /// <summary>The weights the emitted forward multiplies by: absent taps weigh 0 (they gather element 0); null when all are 1.</summary>
    private float[]? EffectiveWeights()
    {
        if (Weight is null && Array.IndexOf(Index, -1) < 0)
        {
            return null;
        }

        var w = new float[Index.Length];
        for (int k = 0; k < w.Length; k++)
        {
            w[k] = Index[k] < 0 ? 0f : Weight?[k] ?? 1f;
        }

        return w;
    }

    private static bool IsIdentity(int[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] != i)
            {
                return false;
            }
        }

        return true;
    }

    private ParallelOptions Options(int batch) => new() { MaxDegreeOfParallelism = (long)batch * Index.Length * Blocks < 1 << 16 ? 1 : -1 };
}

/// <summary>
/// Windows that tile an H×W plane exactly: tile (i, j) covers rows [i·th, (i+1)·th) and columns [j·tw, (j+1)·tw); its taps
/// are numbered row-major within the tile, as the tap table numbers them.
/// </summary>
internal sealed record PlaneTiles(int H, int W, int TileH, int TileW)
{
    public int OutH => H / TileH;

    public int OutW => W / TileW;

    /// <summary>[B, blocks, H, W] viewed as [B, blocks, H/th, th, W/tw, tw].</summary>
    public string Split(OnnxEmitter emitter, string x, int blocks) => emitter.Reshape(x, -1, blocks, OutH, TileH, OutW, TileW);
}
