using Clrp.Onnx;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Imaging;
using Clrp.Onnx.Tensors;
using SkiaSharp;

namespace Clrp.Batch;

/// <summary>
/// Explains a run of manifest entries (a mini-batch on one machine, a shard on a cluster) into the content-addressed
/// layout. Per entry: hash the file; if its item is finished, reuse it; else read it, explain it together with the
/// other pending inputs of the same shape (one forward pass and one backward walk), write its maps, heatmaps and
/// finally its record, each atomically. A bad input becomes an error outcome and the others go on: when a mini-batch
/// fails, its inputs are explained one by one so that the error lands on the input that caused it.
/// </summary>
/// <remarks>
/// Outputs do not depend on how inputs are grouped: on the CPU the explainer gives every image of a batch the same
/// bits as alone (checked by <c>BatchProcessorTests</c>), which is what lets a rerun, or another machine, reproduce
/// them byte for byte.
/// </remarks>
public sealed class BatchProcessor
{
    /// <summary>Short side of every heatmap after pixel-repeating enlargement, as <c>clrp explain --heatmap</c>.</summary>
    private const int HeatmapMinSide = 224;

    private readonly BatchSettings _settings;
    private readonly OutputLayout _layout;
    private readonly BatchExplainers _explainers;

    public BatchProcessor(BatchSettings settings, OutputLayout layout, BatchExplainers explainers)
    {
        _settings = settings;
        _layout = layout;
        _explainers = explainers;
    }

    /// <summary>Processes <paramref name="entries"/>; returns one outcome per entry, in order.</summary>
    /// <param name="entries">The inputs.</param>
    /// <param name="beforeRead">Called with each entry just before it is read (a cluster worker reports progress there), or null.</param>
    /// <exception cref="ClrpException">The model itself cannot be loaded: no input could be explained.</exception>
    public IReadOnlyList<ItemOutcome> Process(IReadOnlyList<ManifestEntry> entries, Action<ManifestEntry>? beforeRead = null)
    {
        var outcomes = new ItemOutcome?[entries.Count];
        var pending = new List<(int Slot, LoadedItem Item)>();
        var firstSlotOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new List<(int Slot, int Of)>();
        for (int slot = 0; slot < entries.Count; slot++)
        {
            ManifestEntry entry = entries[slot];
            beforeRead?.Invoke(entry);
            string? sha = null;
            try
            {
                sha = BatchInputReader.Hash(entry);
                if (firstSlotOf.TryGetValue(sha, out int first))
                {
                    duplicates.Add((slot, first));
                    continue;
                }

                firstSlotOf[sha] = slot;
                if (_layout.TryReadFinished(sha) is { } done)
                {
                    outcomes[slot] = new ItemOutcome(entry, sha, done, null, Reused: true);
                    continue;
                }

                pending.Add((slot, BatchInputReader.Load(entry, sha, _explainers.For(entry.Kind).Input, _settings)));
            }
            catch (Exception e) when (IsInputError(e))
            {
                outcomes[slot] = Failed(entry, sha, e.Message);
            }
        }

        foreach (var group in pending.GroupBy(p => (ExplainerKind(p.Item.Entry.Kind), BatchInputReader.ShapeKey(p.Item.Tensor), p.Item.Entry.TargetClass is null)))
        {
            ExplainGroup([.. group], outcomes);
        }

        foreach ((int slot, int of) in duplicates)
        {
            ItemOutcome original = outcomes[of]!;
            outcomes[slot] = original with { Entry = entries[slot], Reused = original.Record is not null };
        }

        return outcomes.Select(o => o!).ToArray();
    }

    /// <summary>Errors that belong to one input (bad file, wrong shape, NaN, a class outside [0,K)) rather than to the job.</summary>
    public static bool IsInputError(Exception e) => e is ClrpException and not ModelLoadException and not InvalidGraphException
        and not UnsupportedOperatorException and not DeviceUnavailableException;

    /// <summary>An error outcome whose message names the model by its file name, as every machine sees the same one.</summary>
    private ItemOutcome Failed(ManifestEntry entry, string? sha256, string message) =>
        ItemOutcome.Failed(entry, sha256, message.Replace(_settings.ModelPath, Path.GetFileName(_settings.ModelPath), StringComparison.Ordinal));

    private InputKind ExplainerKind(InputKind kind) => _settings.BoundsIndependentOfKind ? InputKind.Picture : kind;

    private void ExplainGroup(IReadOnlyList<(int Slot, LoadedItem Item)> group, ItemOutcome?[] outcomes)
    {
        ClrpExplainer explainer = _explainers.For(group[0].Item.Entry.Kind);
        Explanation explanation;
        try
        {
            explanation = explainer.Explain(Concatenate(group.Select(g => g.Item.Tensor).ToList()), TargetOf(group.Select(g => g.Item.Entry).ToList()));
        }
        catch (Exception e) when (IsInputError(e))
        {
            if (group.Count > 1)
            {
                // One input spoiled the mini-batch (NaN, a class outside [0,K)…): find which by explaining each alone.
                foreach (var single in group)
                {
                    ExplainGroup([single], outcomes);
                }
            }
            else
            {
                outcomes[group[0].Slot] = Failed(group[0].Item.Entry, group[0].Item.Sha256, e.Message);
            }

            return;
        }

        for (int n = 0; n < group.Count; n++)
        {
            (int slot, LoadedItem item) = group[n];
            try
            {
                outcomes[slot] = new ItemOutcome(item.Entry, item.Sha256, WriteItem(explanation, n, item), null, Reused: false);
            }
            catch (Exception e) when (IsInputError(e) || e is IOException or UnauthorizedAccessException)
            {
                outcomes[slot] = Failed(item.Entry, item.Sha256, e.Message);
            }
        }
    }

    private Target TargetOf(IReadOnlyList<ManifestEntry> entries) =>
        entries[0].TargetClass is null ? _settings.DefaultTarget : Target.PerImage([.. entries.Select(e => e.TargetClass!.Value)]);

    private static Tensor Concatenate(IReadOnlyList<Tensor> tensors)
    {
        if (tensors.Count == 1)
        {
            return tensors[0];
        }

        int length = tensors[0].Length;
        var data = new float[length * tensors.Count];
        for (int i = 0; i < tensors.Count; i++)
        {
            tensors[i].Data.CopyTo(data, i * length);
        }

        return new Tensor(data, [tensors.Count, .. tensors[0].Shape[1..]]);
    }

    /// <summary>Writes the maps, heatmaps and, last, the record of image <paramref name="n"/> of <paramref name="explanation"/>.</summary>
    private ItemRecord WriteItem(Explanation explanation, int n, LoadedItem item)
    {
        Tensor relevance = explanation.Relevance;
        int k = explanation.TargetsPerImage;
        int perMap = relevance.Length / (relevance.Shape[0] * k);
        int[] mapShape = relevance.Shape[2..];
        string folder = _layout.ItemFolder(item.Sha256);
        Directory.CreateDirectory(folder);

        var files = new List<OutputFile>();
        var classes = new int[k];
        for (int i = 0; i < k; i++)
        {
            int cls = classes[i] = explanation.TargetClassOf(n, i);
            string npy = Path.Combine(folder, $"relevance-c{cls}.npy");
            NpyFile.Write(npy, new Tensor(relevance.Data.AsSpan(((n * k) + i) * perMap, perMap).ToArray(), mapShape));
            files.Add(Describe(npy));
            // Drawn as clrp explain --heatmap draws them (HeatmapMaps): pictures by the heatmap's own [H, W], so that
            // channels-last models are drawn right, and 1-D signals as a strip. A volume has no single picture: its
            // maps are the .npy files only.
            if (_settings.Heatmaps && HeatmapMaps.CanDraw(explanation))
            {
                (int width, int height, Func<int, int, float[]> mapOf) = HeatmapMaps.Of(explanation);
                LoadedImage? image = relevance.Rank == 5 && item.Image is { } img && img.Width == width && img.Height == height ? img : null;
                using SKBitmap bitmap = HeatmapRenderer.Render(mapOf(n, i), width, height, new HeatmapOptions
                {
                    Signed = !explanation.Method.IsContrastive(),
                    Overlay = image?.Rgba,
                    MinSide = HeatmapMinSide,
                });
                string png = Path.Combine(folder, $"heatmap-c{cls}.png");
                HeatmapRenderer.SavePng(png, bitmap);
                files.Add(Describe(png));
            }
        }

        Span<float> logits = explanation.Logits.Row(n);
        int predicted = 0;
        for (int c = 1; c < logits.Length; c++)
        {
            predicted = logits[c] > logits[predicted] ? c : predicted;
        }

        SeedSums[] seeds = [.. explanation.Diagnostics.Where(d => d.Image == n).Select(d => new SeedSums(d.Class, d.Seed, d.SeedSum, d.InputSum))];
        var record = new ItemRecord(item.Sha256, predicted, logits.ToArray(), classes, seeds, [.. files]);
        AtomicText.Write(_layout.RecordPath(item.Sha256), record.ToJson());
        return record;
    }

    private static OutputFile Describe(string path) => new(Path.GetFileName(path), new FileInfo(path).Length, ContentHash.OfFile(path));
}
