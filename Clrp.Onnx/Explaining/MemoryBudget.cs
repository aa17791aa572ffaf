using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// <see cref="ExplainerOptions.MaxMemoryBytes"/>: a request whose estimate does not fit is refused with
/// <see cref="ResourceLimitException"/> before the capture run allocates anything. The estimate, for N images and R seed
/// rows: 2 × N × (captured bytes per image) — ONNX Runtime's outputs and their managed copies — plus 3 × R × (input bytes
/// per image) for the relevance at the input, the final map and the CLRP parts, plus one walk row (6 × the captured
/// bytes per image, as the walk sizes its chunks). Captured bytes per image are the sum of the per-image shapes the
/// shape probe finds for this input size (the values an explanation reads). With a budget
/// the buffer pool keeps at most a quarter of it, and ORT's CPU arena is asked to shrink after every run
/// (<c>memory.enable_memory_arena_shrinkage</c>); on fashion-pair-vgg that did not lower the working set after a run
/// measurably (368–370 MiB either way), so the refusal before allocating is the guarantee.
/// </summary>
internal sealed class MemoryBudget
{
    private readonly long? _max;

    /// <exception cref="InvalidOptionsException">A budget of 0 bytes or less.</exception>
    public MemoryBudget(long? maxBytes) =>
        _max = maxBytes is <= 0 ? throw new InvalidOptionsException($"the memory budget is {maxBytes} bytes; ExplainerOptions.MaxMemoryBytes must be > 0 (or null for none).") : maxBytes;

    /// <summary>Free bytes the explainer's buffer pool may keep between explanations.</summary>
    public static long PoolCapacity(ExplainerOptions options) =>
        options.MaxMemoryBytes is long max ? Math.Min(options.MaxWalkBytes, max / 4) : options.MaxWalkBytes;

    /// <param name="batch">The validated input.</param>
    /// <param name="target">The classes per image.</param>
    /// <param name="method">The method (CLRP walks a dual row per class).</param>
    /// <param name="shapes">The per-image shapes of every value an explanation reads (the shape probe; asked only with a budget).</param>
    /// <exception cref="ResourceLimitException">The estimate exceeds the budget.</exception>
    public void Check(Tensor batch, Target target, ExplainMethod method, Func<IReadOnlyDictionary<string, int[]>> shapes)
    {
        if (_max is not long max)
        {
            return;
        }

        long n = batch.Shape[0];
        long perImage = shapes().Values.Sum(s => s.Aggregate(1L, (a, b) => a * b)) * sizeof(float);
        long rows = n * (method.IsContrastive() ? 2L : 1L) * Math.Max(1, target.Count);
        long captureBytes = 2 * n * perImage;
        long results = 3 * rows * batch.RowLength * sizeof(float);
        long walkRow = 6 * perImage;
        long required = captureBytes + results + walkRow;
        if (required > max)
        {
            throw new ResourceLimitException(
                $"explaining {n} image(s) with {rows} seed row(s) needs about {Mib(required)} (activations {Mib(captureBytes)}, maps {Mib(results)}, one walk row {Mib(walkRow)}), more than the budget of {Mib(max)} (ExplainerOptions.MaxMemoryBytes, --max-memory); explain fewer images or classes at once, or raise the budget.");
        }
    }

    private static string Mib(long bytes) => $"{Math.Ceiling(bytes / 1048576.0):0} MiB";
}
