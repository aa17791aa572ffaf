using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;

namespace Clrp.Batch;

/// <summary>
/// The explainers of one job on one machine, loaded on first use: one for pictures and one for .npy inputs when their
/// z^B bounds differ (pictures [0,1], .npy their own range), else one shared. Thread-safe; disposes what it loaded.
/// </summary>
public sealed class BatchExplainers : IDisposable
{
    private readonly BatchSettings _settings;
    private readonly Device _device;
    private readonly Action<string>? _log;
    private readonly string? _cacheDirectory;
    private readonly Dictionary<InputKind, ClrpExplainer> _loaded = [];
    private readonly Lock _gate = new();

    /// <param name="settings">What to explain.</param>
    /// <param name="device">Where ONNX Runtime runs.</param>
    /// <param name="log">Library notes, or null.</param>
    /// <param name="cacheDirectory">Where compiled explainer graphs are kept between runs, or null for none.</param>
    public BatchExplainers(BatchSettings settings, Device device, Action<string>? log, string? cacheDirectory = null)
    {
        _settings = settings;
        _device = device;
        _log = log;
        _cacheDirectory = cacheDirectory;
    }

    /// <summary>The explainer for inputs of <paramref name="kind"/>.</summary>
    /// <exception cref="Onnx.ClrpException">The model cannot be loaded (names the file and why).</exception>
    public ClrpExplainer For(InputKind kind)
    {
        InputKind key = _settings.BoundsIndependentOfKind ? InputKind.Picture : kind;
        lock (_gate)
        {
            if (!_loaded.TryGetValue(key, out ClrpExplainer? explainer))
            {
                explainer = ClrpExplainer.Load(_settings.ModelPath, _settings.CreateExplainerOptions(key, _device, _log, _cacheDirectory));
                _loaded[key] = explainer;
            }

            return explainer;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (ClrpExplainer explainer in _loaded.Values)
            {
                explainer.Dispose();
            }

            _loaded.Clear();
        }
    }
}
