using BenchmarkDotNet.Attributes;
using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;

namespace Clrp.Benchmarks;

/// <summary>
/// The two convolutions every LRP rule is built from — forward <c>W ∗ x</c> and transposed <c>Wᵀ ∗ g</c> — on a
/// VGG16-sized layer (128→256, 3×3, 56²): the managed im2col kernel against the ONNX Runtime kernel the walk uses.
/// 1.85 GFLOP per forward; the transposed call carries two relevance rows (target + dual), 3.7 GFLOP.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ConvolutionKernelBenchmarks
{
    private const int Channels = 128, OutChannels = 256, Size = 56;
    private Tensor _x = null!;
    private Tensor _g = null!;
    private LinearWeights _w = null!;
    private Conv2dKernel _managed = null!;
    private OrtConvKernel _ort = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _x = Random(random, 1, Channels, Size, Size);
        _g = Random(random, 2, OutChannels, Size, Size);
        _w = new LinearWeights(Random(random, OutChannels, Channels, 3, 3).Data, OutChannels);
        var window = new Window2d(3, 3, 1, 1, 1, 1, 1, 1, 1, 1, Size, Size, Size, Size);
        _managed = new Conv2dKernel(Channels, OutChannels, 1, window);
        _ort = new OrtConvKernel(Channels, OutChannels, 1, window);
        _ = _ort.Forward(_x, _w);
        _ = _ort.InputGradient(_g, _w);
    }

    [GlobalCleanup]
    public void Cleanup() => _ort.Dispose();

    [Benchmark(Baseline = true)]
    public Tensor ManagedForward() => _managed.Forward(_x, _w);

    [Benchmark]
    public Tensor OrtForward() => _ort.Forward(_x, _w);

    [Benchmark]
    public Tensor ManagedTransposedTwoRows() => _managed.InputGradient(_g, _w);

    [Benchmark]
    public Tensor OrtTransposedTwoRows() => _ort.InputGradient(_g, _w);

    private static Tensor Random(Random random, params int[] shape)
    {
        var t = new Tensor(shape);
        for (int i = 0; i < t.Length; i++)
        {
            t.Data[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return t;
    }
}
