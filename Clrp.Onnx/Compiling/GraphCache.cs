using System.Globalization;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Clrp.Onnx.Explaining;
using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Compiling;

/// <summary>What a cached graph needs besides its model file.</summary>
/// <param name="Classes">K.</param>
/// <param name="TargetsPerImage">k.</param>
/// <param name="RowsPerImage">Rows walked per image.</param>
/// <param name="ExplicitDuals">Whether rows k..2k−1 are explicit duals.</param>
/// <param name="InputName">The image input's name.</param>
/// <param name="Nodes">Nodes the explanation added to the model.</param>
internal sealed record CachedGraphInfo(int Classes, int TargetsPerImage, int RowsPerImage, bool ExplicitDuals, string InputName, int Nodes);

/// <summary>
/// Compiled explainer graphs kept on disk, so that a process explaining one picture (the CLI's main command) does not
/// compile again and ONNX Runtime does not optimise again (folding w⁺ of every layer is most of a large model's start-up).
/// An entry is keyed by the model's content (SHA-256), everything the graph is fixed to (method, dual seed, every layer's
/// rule configuration, bounds, k, input size, explained output), the library and ONNX Runtime versions and the CPU's
/// instruction sets, and holds: <c>explainer.onnx</c> (the compiled graph), <c>graph.json</c>, and for the CPU
/// <c>ort-cpu.onnx</c>, ONNX Runtime's optimised form of it (specific to this machine's CPU). Entries are written
/// atomically; the folder keeps at most <see cref="MaxBytes"/>, dropping the least recently used.
/// A content hash is computed once per file version and remembered by path, size and modification time.
/// </summary>
internal sealed class GraphCache(string directory)
{
    /// <summary>The most the cache folder keeps (entries used least recently go first).</summary>
    public const long MaxBytes = 8L << 30;

    private const string GraphFile = "explainer.onnx";
    private const string InfoFile = "graph.json";
    private const string OptimizedFile = "ort-cpu.onnx";

    /// <summary>The cache folder.</summary>
    public string Directory { get; } = directory;

    /// <summary>
    /// The key of a graph: the model's content hash and <paramref name="signature"/> (what the graph is fixed to), with the
    /// versions and CPU features that make an ONNX Runtime optimised model valid.
    /// </summary>
    public string Key(string modelPath, string signature)
    {
        string content = ContentHash(modelPath);
        // The build (deterministic builds give every change of the code a new module id), so a rebuilt library never opens
        // a graph an older one compiled.
        string environment = string.Join('|',
            typeof(GraphCache).Assembly.ManifestModule.ModuleVersionId,
            OrtVersion(),
            System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture,
            Avx512F.IsSupported, Avx2.IsSupported, Fma.IsSupported);
        return Hex(SHA256.HashData(Encoding.UTF8.GetBytes(content + "\n" + signature + "\n" + environment)))[..32];
    }

    /// <summary>The entry's files, when complete.</summary>
    public bool TryGet(string key, out string graphPath, out string? optimizedPath, out CachedGraphInfo info)
    {
        string folder = Path.Combine(Directory, key);
        graphPath = Path.Combine(folder, GraphFile);
        string optimized = Path.Combine(folder, OptimizedFile);
        optimizedPath = File.Exists(optimized) ? optimized : null;
        info = null!;
        try
        {
            if (!File.Exists(graphPath) || JsonSerializer.Deserialize<CachedGraphInfo>(File.ReadAllText(Path.Combine(folder, InfoFile))) is not { } read)
            {
                return false;
            }

            info = read;
            File.SetLastWriteTimeUtc(Path.Combine(folder, InfoFile), DateTime.UtcNow); // recently used
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return false;
        }
    }

    /// <summary>Stores a compiled graph; returns where ONNX Runtime may write its optimised form (CPU), or null.</summary>
    public string? Put(string key, CompiledGraph graph, bool cpu)
    {
        string folder = Path.Combine(Directory, key);
        try
        {
            System.IO.Directory.CreateDirectory(folder);
            IO.AtomicFile.Write(Path.Combine(folder, GraphFile), s => s.Write(graph.Model));
            var info = new CachedGraphInfo(graph.Classes, graph.Layout.K, graph.Layout.RowsPerImage, graph.Layout.ExplicitDuals, graph.InputName, graph.Nodes);
            IO.AtomicFile.Write(Path.Combine(folder, InfoFile), s => JsonSerializer.Serialize(s, info));
            Prune(keep: folder);
            return cpu ? Path.Combine(folder, OptimizedFile) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // a cache that cannot be written only costs the next start its compile
        }
    }

    /// <summary>The ONNX Runtime version string.</summary>
    private static string OrtVersion()
    {
        Execution.OrtSessionFactory.EnsureEnvironment();
        return OrtEnv.Instance().GetVersionString();
    }

    /// <summary>SHA-256 of the file, remembered per path, size and modification time under <c>hashes/</c>.</summary>
    private string ContentHash(string modelPath)
    {
        var file = new FileInfo(modelPath);
        string stamp = string.Create(CultureInfo.InvariantCulture, $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}");
        string index = Path.Combine(Directory, "hashes", Hex(SHA256.HashData(Encoding.UTF8.GetBytes(stamp)))[..32] + ".txt");
        try
        {
            if (File.Exists(index) && File.ReadAllText(index).Split('\n') is [var line, var hash, ..] && line == stamp)
            {
                return hash;
            }
        }
        catch (IOException)
        {
        }

        string content;
        using (FileStream stream = File.OpenRead(modelPath))
        {
            content = Hex(SHA256.HashData(stream));
        }

        try
        {
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(index)!);
            IO.AtomicFile.Write(index, s => s.Write(Encoding.UTF8.GetBytes(stamp + "\n" + content + "\n")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return content;
    }

    /// <summary>Deletes the least recently used entries until the folder holds at most <see cref="MaxBytes"/>.</summary>
    private void Prune(string keep)
    {
        var entries = new DirectoryInfo(Directory).GetDirectories()
            .Where(d => d.Name != "hashes" && d.FullName != Path.GetFullPath(keep))
            .Select(d => (Dir: d, Used: File.Exists(Path.Combine(d.FullName, InfoFile)) ? File.GetLastWriteTimeUtc(Path.Combine(d.FullName, InfoFile)) : d.LastWriteTimeUtc,
                Bytes: d.GetFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)))
            .OrderBy(e => e.Used)
            .ToList();
        long total = entries.Sum(e => e.Bytes) + new DirectoryInfo(keep).GetFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        foreach ((DirectoryInfo dir, _, long bytes) in entries)
        {
            if (total <= MaxBytes)
            {
                break;
            }

            try
            {
                dir.Delete(recursive: true);
                total -= bytes;
            }
            catch (IOException)
            {
            }
        }
    }

    private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
}
