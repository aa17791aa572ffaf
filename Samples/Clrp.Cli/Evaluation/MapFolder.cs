using System.Globalization;
using Clrp.Onnx;
using Clrp.Onnx.Tensors;

namespace Clrp.Cli.Evaluation;

/// <summary>
/// <c>--maps DIR</c>: every map the evaluation scores, as .npy, so that Quantus or one's own numpy code can score the
/// same maps. Layout: <c>DIR/&lt;method&gt;/scene-&lt;index:00000&gt;.npy</c>, float32 [2, H, W], row 0 the map of the
/// scene's class_a, row 1 of class_b (the scene's row of scenes.csv and image of images.u8.npy in --data), exactly as
/// the metrics read it (the gradient as |∂z/∂x|, every other method signed, channels summed). Each file is written
/// atomically, so a stopped run leaves whole files only.
/// </summary>
internal sealed class MapFolder
{
    private readonly string _root;

    private MapFolder(string root) => _root = root;

    /// <summary>The folder of <c>--maps</c>, created when missing; null when the option is absent.</summary>
    /// <exception cref="InvalidOptionsException">The folder cannot be created, or the path is a file.</exception>
    public static MapFolder? Open(string? path)
    {
        if (path is null)
        {
            return null;
        }

        if (File.Exists(path))
        {
            throw new InvalidOptionsException($"--maps '{path}' is a file; expected a folder (created when missing).");
        }

        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOptionsException($"--maps: cannot create the folder '{path}': {e.Message}");
        }

        return new MapFolder(path);
    }

    /// <summary>The file of <paramref name="method"/>'s maps of scene <paramref name="scene"/>.</summary>
    public static string FileOf(string root, string method, int scene) =>
        Path.Combine(root, method, string.Create(CultureInfo.InvariantCulture, $"scene-{scene:00000}.npy"));

    /// <summary>Writes the two maps ([2][H·W]) of one scene.</summary>
    public void Write(string method, Scene scene, float[][] maps, int height, int width)
    {
        string path = FileOf(_root, method, scene.Index);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var data = new float[2 * height * width];
        maps[0].CopyTo(data, 0);
        maps[1].CopyTo(data, height * width);
        NpyFile.Write(path, new Tensor(data, [2, height, width]));
    }
}
