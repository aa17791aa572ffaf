using Clrp.Onnx.Composites;
using Clrp.Onnx.Graph;
using Clrp.Onnx.Planning;

namespace Clrp.Onnx.Explaining;

/// <summary>
/// The explainer's plan, held only while something needs it. The compiled engine needs the model's protobuf and decoded
/// weights only to compile; once a graph runs in ONNX Runtime they are two more copies of the weights in the process (for
/// VGG16, 2 × 553 MB). So after compiling the plan is released, and rebuilt from the file when another graph is needed
/// (another input size, another number of classes per image) — after checking that the file is unchanged.
/// The managed engine walks the plan on every explanation and keeps it.
/// </summary>
internal sealed class PlanSource : IDisposable
{
    private readonly string _path;
    private readonly string? _outputName;
    private readonly Composite _composite;
    private readonly long _length;
    private readonly DateTime _written;
    /// <summary>Above this file size a released plan is collected at once.</summary>
    private const long LargeModelBytes = 64L << 20;

    private readonly Lock _gate = new();
    private ExplanationPlan? _plan;
    private bool _pinned;

    public PlanSource(string path, ExplanationPlan plan, string? outputName, Composite composite)
    {
        _path = path;
        _plan = plan;
        _outputName = outputName;
        _composite = composite;
        var file = new FileInfo(path);
        _length = file.Length;
        _written = file.LastWriteTimeUtc;
    }

    /// <summary>Runs <paramref name="use"/> with the plan, rebuilding it from the file first if it was released.</summary>
    public T Use<T>(Func<ExplanationPlan, T> use)
    {
        lock (_gate)
        {
            _plan ??= Rebuild();
            return use(_plan);
        }
    }

    /// <summary>The plan, kept from now on (the managed engine walks it on every explanation).</summary>
    public ExplanationPlan Pin()
    {
        lock (_gate)
        {
            _pinned = true;
            return _plan ??= Rebuild();
        }
    }

    /// <summary>Drops the plan (and with it the protobuf and the decoded weights) unless it is pinned.</summary>
    public void Release()
    {
        lock (_gate)
        {
            if (!_pinned && _plan is not null)
            {
                _plan.Dispose();
                _plan = null;
                if (_length > LargeModelBytes)
                {
                    // The protobuf and the decoded weights are large-object-heap arrays the GC would otherwise keep until
                    // its next full collection; the compiled session about to be created would add to them (VGG16: ~1 GB).
                    GC.Collect();
                }
            }
        }
    }

    private ExplanationPlan Rebuild()
    {
        var file = new FileInfo(_path);
        if (!file.Exists || file.Length != _length || file.LastWriteTimeUtc != _written)
        {
            throw new ModelLoadException($"model file '{_path}' changed since the explainer loaded it; load it again.");
        }

        return ExplanationPlan.Build(OnnxModelReader.Read(_path), _outputName, _composite, strict: true);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _plan?.Dispose();
            _plan = null;
        }
    }
}
