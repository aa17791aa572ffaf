namespace Clrp.Samples.Web;

/// <summary>
/// What the app explains and how much it accepts; bound from the "Explainer" configuration section (appsettings.json,
/// environment variables such as <c>Explainer__Model</c>, or <c>--Explainer:Model=…</c> on the command line).
/// The defaults explain the shipped Fashion-MNIST classifier.
/// </summary>
public sealed class WebExplainerSettings
{
    /// <summary>The ONNX classifier; a relative path is looked up next to the app, then in the current folder. Default: models/fashion-vgg.onnx.</summary>
    public string Model { get; set; } = "models/fashion-vgg.onnx";

    /// <summary>Per-channel mean of the preprocessing <c>(pixel/255 − mean)/std</c>; also gives the z^B bounds.</summary>
    public float[] Mean { get; set; } = [0.2860f];

    /// <summary>Per-channel std of the preprocessing.</summary>
    public float[] Std { get; set; } = [0.3530f];

    /// <summary>Class names, in the model's order.</summary>
    public string[] Labels { get; set; } = ["t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

    /// <summary>The most classes one request may ask for. Default: 5.</summary>
    public int MaxTopK { get; set; } = 5;

    /// <summary>The largest request body in bytes (checked before reading it). Default: 4 MiB.</summary>
    public long MaxUploadBytes { get; set; } = 4L << 20;

    /// <summary>
    /// The most pixels a decoded upload may have (width × height, read from the image header before decoding).
    /// Default: 16 megapixels. A stand-in until <c>ImageLoadOptions.MaxPixels</c> (the reliability work) lands in the core.
    /// </summary>
    public long MaxPixels { get; set; } = 16_000_000;
}
