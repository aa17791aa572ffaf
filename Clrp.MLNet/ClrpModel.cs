using System.IO.Compression;
using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Saves and loads fitted pipelines that contain <see cref="ClrpTransformer"/>s — the replacement for
/// <c>MLContext.Model.Save/Load</c>, which cannot hold them (see <see cref="ClrpTransformer"/>). The file is a zip:
/// the pipeline is cut at each explainer, every ML.NET segment is written by <c>MLContext.Model.Save</c> and every
/// explainer by <see cref="ClrpTransformer.Save(Stream)"/> (with its ONNX model), so it loads in a new process with
/// nothing but the file.
/// </summary>
public static class ClrpModel
{
    private const string Manifest = "clrp-pipeline.txt";

    /// <summary>Writes <paramref name="model"/> (a chain, an explainer, or any ML.NET transformer) and its input schema to <paramref name="path"/>.</summary>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream file = File.Create(path);
        Save(ml, model, inputSchema, file);
    }

    /// <summary>Writes <paramref name="model"/> and its input schema to <paramref name="stream"/>.</summary>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        ArgumentNullException.ThrowIfNull(stream);
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var manifest = new List<string>();
        DataViewSchema schema = inputSchema;
        var segment = new List<ITransformer>();
        // Segment 0 is always an ML.NET chain (possibly empty) so that the input schema is stored the ML.NET way.
        foreach (ITransformer? part in Flatten(model).Append(null))
        {
            if (part is ClrpTransformer or null)
            {
                string name = $"{manifest.Count}.mlnet.zip";
                var chain = new TransformerChain<ITransformer>([.. segment]);
                using (Stream entry = zip.CreateEntry(name).Open())
                {
                    ml.Model.Save(chain, schema, entry);
                }

                manifest.Add(name);
                schema = chain.GetOutputSchema(schema);
                segment.Clear();
            }

            if (part is ClrpTransformer explainer)
            {
                string name = $"{manifest.Count}.clrp";
                using (Stream entry = zip.CreateEntry(name).Open())
                {
                    explainer.Save(entry);
                }

                manifest.Add(name);
                schema = explainer.GetOutputSchema(schema);
            }
            else if (part is not null)
            {
                segment.Add(part);
            }
        }

        using var writer = new StreamWriter(zip.CreateEntry(Manifest).Open());
        writer.Write(string.Join('\n', manifest));
    }

    /// <summary>Reads a pipeline written by <see cref="Save(MLContext, ITransformer, DataViewSchema, string)"/>; the result is a <see cref="TransformerChain{TLastTransformer}"/>, disposable.</summary>
    /// <exception cref="ModelLoadException">The file is missing or not a saved ClrpMl pipeline.</exception>
    public static ITransformer Load(MLContext ml, string path, out DataViewSchema inputSchema)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new ModelLoadException($"saved pipeline '{path}' not found.");
        }

        using FileStream file = File.OpenRead(path);
        return Load(ml, file, out inputSchema);
    }

    /// <summary>Reads a pipeline written by <see cref="Save(MLContext, ITransformer, DataViewSchema, Stream)"/>.</summary>
    public static ITransformer Load(MLContext ml, Stream stream, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(ml);
        ArgumentNullException.ThrowIfNull(stream);
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ModelLoadException($"not a saved ClrpMl pipeline (not a zip file): {e.Message}", e);
        }

        using (zip)
        {
            ZipArchiveEntry manifest = zip.GetEntry(Manifest)
                ?? throw new ModelLoadException($"not a saved ClrpMl pipeline: no '{Manifest}' entry (a plain ML.NET model loads with MLContext.Model.Load).");
            string[] names;
            using (var reader = new StreamReader(manifest.Open()))
            {
                names = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            }

            var parts = new List<ITransformer>();
            DataViewSchema? first = null;
            try
            {
                foreach (string name in names)
                {
                    using var entry = new MemoryStream();
                    using (Stream source = (zip.GetEntry(name) ?? throw new ModelLoadException($"saved pipeline lacks entry '{name}'.")).Open())
                    {
                        source.CopyTo(entry);
                    }

                    entry.Position = 0;
                    if (name.EndsWith(".clrp", StringComparison.Ordinal))
                    {
                        parts.Add(ClrpTransformer.Load(ml, entry));
                    }
                    else
                    {
                        parts.AddRange(Flatten(ml.Model.Load(entry, out DataViewSchema schema)));
                        first ??= schema;
                    }
                }
            }
            catch
            {
                parts.OfType<IDisposable>().ToList().ForEach(d => d.Dispose());
                throw;
            }

            inputSchema = first ?? throw new ModelLoadException("saved pipeline holds no input schema.");
            return new TransformerChain<ITransformer>([.. parts]);
        }
    }

    /// <summary>The transformers of nested chains, in order.</summary>
    private static IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [model];
}
