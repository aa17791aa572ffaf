using Clrp.Onnx.Tensors;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// One object of a scene: its class and its box in pixels, <c>X0 ≤ x &lt; X1</c>, <c>Y0 ≤ y &lt; Y1</c>
/// (x = column, y = row; the end is exclusive, as in <c>scenes.csv</c>).
/// </summary>
internal readonly record struct ObjectBox(int Class, int X0, int Y0, int X1, int Y1)
{
    /// <summary>True when pixel (x, y) lies inside the box.</summary>
    public bool ContainsPixel(int x, int y) => x >= X0 && x < X1 && y >= Y0 && y < Y1;

    /// <summary>
    /// Euclidean distance from the point (px, py) in continuous pixel coordinates (pixel (x, y) covers
    /// [x, x+1) × [y, y+1)) to the box [X0, X1] × [Y0, Y1]; 0 inside.
    /// </summary>
    public double DistanceTo(double px, double py)
    {
        double dx = Math.Max(Math.Max(X0 - px, 0), px - X1);
        double dy = Math.Max(Math.Max(Y0 - py, 0), py - Y1);
        return Math.Sqrt((dx * dx) + (dy * dy));
    }
}

/// <summary>A two-object scene: its position in the image file and its objects a and b (neither is "the main" one).</summary>
internal sealed record Scene(int Index, ObjectBox A, ObjectBox B)
{
    /// <summary>Object 0 is a, object 1 is b.</summary>
    public ObjectBox Object(int which) => which == 0 ? A : B;
}

/// <summary>
/// An evaluation set of two-object scenes (see <c>models/data/fashion-pairs-test/README.md</c>): raw 8-bit
/// pixels [N, C, H, W] and the scenes' classes and boxes. Pixels are kept as bytes (4 MB rather than 16) and
/// turned into model inputs batch by batch with <see cref="Inputs"/>.
/// </summary>
internal sealed class SceneSet
{
    private readonly byte[] _pixels;

    public SceneSet(string folder, byte[] pixels, int channels, int height, int width, IReadOnlyList<Scene> scenes)
    {
        Folder = folder;
        _pixels = pixels;
        Channels = channels;
        Height = height;
        Width = width;
        Scenes = scenes;
    }

    /// <summary>The folder the set was read from, for messages.</summary>
    public string Folder { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>The scenes in file order (possibly the first --limit of them).</summary>
    public IReadOnlyList<Scene> Scenes { get; }

    /// <summary>Pixels per channel plane, H·W.</summary>
    public int Plane => Height * Width;

    /// <summary>
    /// The model input of <paramref name="scenes"/>, each repeated <paramref name="copies"/> times in a row:
    /// [scenes·copies, C, H, W] with <c>x = (byte/255 − mean_c)/std_c</c>.
    /// </summary>
    public Tensor Inputs(IReadOnlyList<Scene> scenes, PixelScaling scaling, int copies = 1)
    {
        int length = Channels * Plane;
        var tensor = new Tensor(scenes.Count * copies, Channels, Height, Width);
        for (int s = 0; s < scenes.Count; s++)
        {
            Span<float> first = tensor.Data.AsSpan(s * copies * length, length);
            ReadOnlySpan<byte> raw = _pixels.AsSpan(scenes[s].Index * length, length);
            for (int c = 0; c < Channels; c++)
            {
                scaling.Apply(raw.Slice(c * Plane, Plane), first.Slice(c * Plane, Plane), c);
            }

            for (int copy = 1; copy < copies; copy++)
            {
                first.CopyTo(tensor.Data.AsSpan(((s * copies) + copy) * length, length));
            }
        }

        return tensor;
    }
}

/// <summary>
/// The preprocessing <c>x = (pixel − mean_c)/std_c</c> with pixel = byte/255, one mean and std per channel
/// (one value serves every channel). The z^B bounds that follow are (0 − mean)/std and (1 − mean)/std.
/// </summary>
/// <param name="Mean">mean_c.</param>
/// <param name="Std">std_c.</param>
/// <param name="IsDatasetMean">True when <paramref name="Mean"/> was given as the data's mean (--mean), so that
/// "the dataset mean" is 0 after normalisation; false when it only encodes a range (--low/--high, or none).</param>
internal sealed record PixelScaling(float[] Mean, float[] Std, bool IsDatasetMean = false)
{
    /// <summary>No normalisation: pixels on [0, 1].</summary>
    public static PixelScaling Unit { get; } = new([0f], [1f]);

    /// <summary>The scaling whose image of [0, 1] is [low, high]: mean = −low/(high−low), std = 1/(high−low).</summary>
    public static PixelScaling FromBounds(float[] low, float[] high) =>
        new([.. low.Zip(high, (l, h) => -l / (h - l))], [.. low.Zip(high, (l, h) => 1f / (h - l))]);

    /// <summary>Writes <c>(b/255 − mean_c)/std_c</c> for every byte of <paramref name="raw"/>.</summary>
    public void Apply(ReadOnlySpan<byte> raw, Span<float> destination, int channel)
    {
        float mean = Mean[Math.Min(channel, Mean.Length - 1)], std = Std[Math.Min(channel, Std.Length - 1)];
        for (int i = 0; i < raw.Length; i++)
        {
            destination[i] = ((raw[i] / 255f) - mean) / std;
        }
    }
}
