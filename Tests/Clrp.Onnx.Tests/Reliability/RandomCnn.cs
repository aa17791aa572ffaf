using Clrp.Onnx.Tests.Support;
using CsCheck;

namespace Clrp.Onnx.Tests.Reliability;

/// <summary>
/// A small random CNN built from the supported operators (the graphs CsCheck generates for the property tests):
/// x [N, C, S, S] → a first Conv 3×3 + Relu, then 1–4 blocks drawn from: Conv 3×3 + Relu; a residual block
/// (Conv + Relu, Conv + Relu, Add with the block's input, Relu); MaxPool 2×2; AveragePool 2×2; a Concat of a 1×1 and a
/// 3×3 branch (each Conv + Relu); Conv + BatchNormalization + Relu (only when <see cref="Bias"/>) — then Flatten → Gemm
/// (K classes). Every block's output is ≥ 0 (a Relu or a pool of one), as after a real network's activations.
/// </summary>
internal sealed record RandomCnn(int Channels, int Size, int[] Blocks, int Classes, bool Bias, int Seed)
{
    public const int Conv = 0, Residual = 1, MaxPool = 2, AveragePool = 3, Concat = 4, ConvBatchNorm = 5;

    /// <summary>Graphs with biases and BatchNorm or without any (the properties that need bias-free nets).</summary>
    public static Gen<RandomCnn> Generator(bool bias) =>
        Gen.Select(Gen.Int[1, 3], Gen.Int[4, 9], Gen.Int[0, bias ? 5 : 4].Array[1, 4], Gen.Int[2, 6], Gen.Int[0, 1_000_000],
            (c, s, blocks, k, seed) => new RandomCnn(c, s, blocks, k, bias, seed));

    public override string ToString() =>
        $"C={Channels} S={Size} blocks=[{string.Join(',', Blocks.Select(b => new[] { "conv", "residual", "maxpool", "avgpool", "concat", "conv-bn" }[b]))}] K={Classes} bias={Bias} seed={Seed}";

    /// <summary>Input values for <paramref name="n"/> images, from the graph's seed.</summary>
    public float[] Input(int n, int salt = 0)
    {
        var random = new Random(Seed + 7919 + salt);
        return [.. Enumerable.Range(0, n * Channels * Size * Size).Select(_ => (float)((random.NextDouble() * 2) - 0.7))];
    }

    public int[] InputShape(int n) => [n, Channels, Size, Size];

    /// <summary>The model as ONNX bytes (opset 13).</summary>
    public byte[] Build()
    {
        var random = new Random(Seed);
        var b = new OnnxBuilder(13).Input("x", "N", (long)Channels, (long)Size, (long)Size);
        int index = 0, channels = Channels, size = Size;
        string Next() => $"v{index++}";
        float[] Weights(int count, int fanIn) => [.. Enumerable.Range(0, count).Select(_ => (float)(Normal(random) * Math.Sqrt(2.0 / fanIn)))];

        string ConvRelu(string input, int cin, int cout, int k, bool batchNorm = false)
        {
            string w = Next(), y = Next();
            b.Initializer(w, Weights(cout * cin * k * k, cin * k * k), [cout, cin, k, k]);
            var inputs = new List<string> { input, w };
            if (Bias)
            {
                string bias = Next();
                b.Initializer(bias, [.. Enumerable.Range(0, cout).Select(_ => (float)(0.1 * Normal(random)))], [cout]);
                inputs.Add(bias);
            }

            b.Node("Conv", [.. inputs], [y], OnnxBuilder.Ints("pads", k / 2, k / 2, k / 2, k / 2));
            if (batchNorm)
            {
                string[] stats = [Next(), Next(), Next(), Next()];
                b.Initializer(stats[0], [.. Enumerable.Range(0, cout).Select(_ => (float)(0.5 + random.NextDouble()))], [cout]);
                b.Initializer(stats[1], [.. Enumerable.Range(0, cout).Select(_ => (float)(0.1 * Normal(random)))], [cout]);
                b.Initializer(stats[2], [.. Enumerable.Range(0, cout).Select(_ => (float)(0.1 * Normal(random)))], [cout]);
                b.Initializer(stats[3], [.. Enumerable.Range(0, cout).Select(_ => (float)(0.5 + random.NextDouble()))], [cout]);
                string normalised = Next();
                b.Node("BatchNormalization", [y, .. stats], [normalised]);
                y = normalised;
            }

            string r = Next();
            b.Node("Relu", [y], [r]);
            return r;
        }

        string h = ConvRelu("x", channels, 3, 3);
        channels = 3;
        foreach (int block in Blocks)
        {
            switch (block)
            {
                case Conv:
                    h = ConvRelu(h, channels, 4, 3);
                    channels = 4;
                    break;
                case Residual:
                    string inner = ConvRelu(ConvRelu(h, channels, channels, 3), channels, channels, 3), sum = Next(), relu = Next();
                    b.Node("Add", [h, inner], [sum]).Node("Relu", [sum], [relu]);
                    h = relu;
                    break;
                case MaxPool or AveragePool when size >= 4:
                    string pooled = Next();
                    b.Node(block == MaxPool ? "MaxPool" : "AveragePool", [h], [pooled], OnnxBuilder.Ints("kernel_shape", 2, 2), OnnxBuilder.Ints("strides", 2, 2));
                    h = pooled;
                    size /= 2;
                    break;
                case MaxPool or AveragePool:
                    break;
                case Concat:
                    string a = ConvRelu(h, channels, 2, 1), c = ConvRelu(h, channels, 3, 3), joined = Next();
                    b.Node("Concat", [a, c], [joined], OnnxBuilder.Int("axis", 1));
                    h = joined;
                    channels = 5;
                    break;
                case ConvBatchNorm:
                    h = ConvRelu(h, channels, 4, 3, batchNorm: true);
                    channels = 4;
                    break;
            }
        }

        int features = channels * size * size;
        string flat = Next(), g = Next();
        b.Node("Flatten", [h], [flat]).Initializer(g, Weights(Classes * features, features), [Classes, features]);
        var gemm = new List<string> { flat, g };
        if (Bias)
        {
            string gb = Next();
            b.Initializer(gb, [.. Enumerable.Range(0, Classes).Select(_ => (float)(0.1 * Normal(random)))], [Classes]);
            gemm.Add(gb);
        }

        return b.Node("Gemm", [.. gemm], ["logits"], OnnxBuilder.Int("transB", 1)).Output("logits").ToBytes();
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
