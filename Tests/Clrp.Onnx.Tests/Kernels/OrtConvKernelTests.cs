using Clrp.Onnx.Kernels;
using Clrp.Onnx.Tensors;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Kernels;

/// <summary>
/// The ONNX Runtime kernel (Conv + ConvTranspose sessions) against the managed im2col kernel, itself checked
/// against dense float64 matrices in the rule tests: forward and transposed map over strides, asymmetric pads,
/// dilations, groups and sizes where the forward size rounds down (output_padding must restore the input size).
/// </summary>
[TestClass]
public sealed class OrtConvKernelTests
{
    public static IEnumerable<object[]> Geometries()
    {
        // channels, outChannels, groups, H, W, kH, kW, stride, dilation, pads (t,l,b,r)
        yield return [3, 4, 1, 9, 7, 3, 3, 1, 1, new[] { 1, 1, 1, 1 }];
        yield return [3, 5, 1, 10, 9, 3, 3, 2, 1, new[] { 0, 1, 1, 0 }];
        yield return [4, 6, 2, 11, 8, 3, 2, 2, 1, new[] { 1, 0, 0, 1 }];
        yield return [4, 4, 4, 9, 9, 3, 3, 1, 2, new[] { 2, 2, 2, 2 }];
        yield return [2, 3, 1, 12, 13, 5, 5, 3, 1, new[] { 2, 2, 1, 1 }];
        yield return [6, 6, 3, 7, 7, 1, 1, 2, 1, new[] { 0, 0, 0, 0 }];
    }

    [TestMethod]
    [DynamicData(nameof(Geometries))]
    public void ForwardAndInputGradient_MatchManagedKernel(int channels, int outChannels, int groups, int h, int w, int kh, int kw, int stride, int dilation, int[] pads)
    {
        var random = new Random(channels * 31 + h);
        int outH = ((h + pads[0] + pads[2] - (dilation * (kh - 1)) - 1) / stride) + 1;
        int outW = ((w + pads[1] + pads[3] - (dilation * (kw - 1)) - 1) / stride) + 1;
        var window = new Window2d(kh, kw, stride, stride, dilation, dilation, pads[0], pads[1], pads[2], pads[3], h, w, outH, outW);
        var weights = new LinearWeights(RandomArray(random, outChannels * (channels / groups) * kh * kw), outChannels, groups);
        var managed = new Conv2dKernel(channels, outChannels, groups, window);
        using var ort = new OrtConvKernel(channels, outChannels, groups, window);

        var x = new Tensor(RandomArray(random, 2 * channels * h * w), [2, channels, h, w]);
        Compare.Close(ort.Forward(x, weights).Data, managed.Forward(x, weights).Data, 1e-5, "forward");

        var g = new Tensor(RandomArray(random, 3 * outChannels * outH * outW), [3, outChannels, outH, outW]);
        Tensor expected = managed.InputGradient(g, weights);
        Tensor actual = ort.InputGradient(g, weights);
        CollectionAssert.AreEqual(expected.Shape, actual.Shape, "input-gradient shape");
        Compare.Close(actual.Data, expected.Data, 1e-5, "input gradient");
    }

    private static float[] RandomArray(Random random, int length)
    {
        var a = new float[length];
        for (int i = 0; i < length; i++)
        {
            a[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return a;
    }
}
