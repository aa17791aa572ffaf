using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Clrp.Onnx.Kernels;

/// <summary>
/// Single-precision matrix product for the relevance walk: computes
/// <c>C[i,j] (+)= Σ_k A[i,k] · B[k,j]</c> with A (m×k), B (k×n), C (m×n), all row-major.
/// The loop order (i, k, j) streams rows of B with SIMD and skips zero entries of A, which pays
/// off because relevance and post-ReLU activations are mostly zero. Tiles of C run in parallel.
/// </summary>
internal static class Sgemm
{
    private const int ColumnTile = 512;
    private const int RowTile = 16;

    /// <summary>C = A·B, or C += A·B when <paramref name="accumulate"/> is true.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate = false)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
        {
            throw new ArgumentException($"Sgemm buffers too small for ({m}×{k})·({k}×{n}).");
        }

        if (!accumulate)
        {
            c[..(m * n)].Clear();
        }

        if (m == 0 || n == 0 || k == 0)
        {
            return;
        }

        int rowTiles = (m + RowTile - 1) / RowTile;
        int colTiles = (n + ColumnTile - 1) / ColumnTile;
        long work = (long)m * n * k;
        if (work < 1 << 18 || rowTiles * colTiles == 1)
        {
            for (int rt = 0; rt < rowTiles; rt++)
            {
                for (int ct = 0; ct < colTiles; ct++)
                {
                    Tile(a, b, c, m, k, n, rt, ct);
                }
            }

            return;
        }

        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                nint ia = (nint)pa, ib = (nint)pb, ic = (nint)pc;
                int la = a.Length, lb = b.Length, lc = c.Length;
                Parallel.For(0, rowTiles * colTiles, t =>
                {
                    var sa = new ReadOnlySpan<float>((float*)ia, la);
                    var sb = new ReadOnlySpan<float>((float*)ib, lb);
                    var sc = new Span<float>((float*)ic, lc);
                    Tile(sa, sb, sc, m, k, n, t / colTiles, t % colTiles);
                });
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, int rowTile, int colTile)
    {
        int i0 = rowTile * RowTile, i1 = Math.Min(m, i0 + RowTile);
        int j0 = colTile * ColumnTile, j1 = Math.Min(n, j0 + ColumnTile);
        int width = j1 - j0;
        for (int i = i0; i < i1; i++)
        {
            Span<float> cRow = c.Slice(i * n + j0, width);
            ReadOnlySpan<float> aRow = a.Slice(i * k, k);
            for (int kk = 0; kk < k; kk++)
            {
                float s = aRow[kk];
                if (s == 0f)
                {
                    continue;
                }

                Axpy(s, b.Slice(kk * n + j0, width), cRow);
            }
        }
    }

    /// <summary>y += s·x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Axpy(float s, ReadOnlySpan<float> x, Span<float> y)
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && x.Length >= Vector<float>.Count)
        {
            var vs = new Vector<float>(s);
            ReadOnlySpan<Vector<float>> vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> vy = MemoryMarshal.Cast<float, Vector<float>>(y);
            for (int v = 0; v < vx.Length; v++)
            {
                vy[v] = Vector.FusedMultiplyAdd(vx[v], vs, vy[v]);
            }

            j = vx.Length * Vector<float>.Count;
        }

        for (; j < x.Length; j++)
        {
            y[j] += s * x[j];
        }
    }

    /// <summary>Writes the transpose of the rows×cols matrix <paramref name="source"/> into <paramref name="destination"/> (cols×rows).</summary>
    public static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int col = 0; col < cols; col++)
            {
                destination[col * rows + r] = source[r * cols + col];
            }
        }
    }
}
