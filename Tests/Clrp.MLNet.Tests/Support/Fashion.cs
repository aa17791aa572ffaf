using Clrp.Onnx.Imaging;

namespace Clrp.MLNet.Tests.Support;

/// <summary>The shipped fashion-vgg model and sample images, preprocessed by the core's image loader.</summary>
internal static class Fashion
{
    public static readonly string Model = Path.Combine(AppContext.BaseDirectory, "models", "fashion-vgg.onnx");
    public static readonly string Samples = Path.Combine(AppContext.BaseDirectory, "models", "samples");
    public static readonly float[] Mean = [0.2860f];
    public static readonly float[] Std = [0.3530f];

    /// <summary>The sample images the tests loop over; fewer would let those loops pass on nothing.</summary>
    public const int SampleCount = 4;

    /// <summary>Each sample image as (pixel/255 − 0.2860)/0.3530, [1,28,28] flattened, with its file name.</summary>
    public static List<FashionRow> Rows()
    {
        List<FashionRow> rows = Directory.GetFiles(Samples, "*.png").Order().Select((path, i) => new FashionRow
        {
            Name = Path.GetFileName(path),
            Input = ImageLoader.Load(path, 28, 28, channels: 1, Mean, Std).Tensor.Data,
            Label = i,
        }).ToList();
        Assert.HasCount(SampleCount, rows, $"sample images in {Samples}");
        return rows;
    }

    /// <summary>Options with the Fashion-MNIST bounds, so that rows can be batched.</summary>
    public static ClrpExplainOptions Options(Action<ClrpExplainOptions>? edit = null)
    {
        var options = new ClrpExplainOptions { ModelPath = Model, Mean = Mean, Std = Std };
        edit?.Invoke(options);
        return options;
    }
}
