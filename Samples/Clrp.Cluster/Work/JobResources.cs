using System.Collections.Concurrent;
using System.Text;
using Clrp.Batch;
using Clrp.Cluster.Grains;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Clrp.Cluster.Work;

/// <summary>What a silo keeps per job between leases: the settings, the resolved manifest and the processor.</summary>
internal sealed record JobContext(BatchSettings Settings, InputManifest Manifest, OutputLayout Layout, BatchProcessor Processor);

/// <summary>
/// A silo's loaded explainers (one <see cref="BatchExplainers"/> per distinct settings, i.e. per model and method, kept
/// for the silo's lifetime) and resolved manifests, shared by its workers.
/// </summary>
public sealed class JobResources : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<BatchExplainers>> _explainers = new();
    private readonly ConcurrentDictionary<string, Lazy<JobContext>> _jobs = new();
    private readonly WorkerOptions _options;
    private readonly ILogger<JobResources> _logger;
    private readonly object _gate = new();
    private int _inUse;
    private bool _disposed;

    public JobResources(IOptions<WorkerOptions> options, ILogger<JobResources> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The context of <paramref name="spec"/>; resolves its manifest once and checks it is the one submitted.</summary>
    /// <exception cref="Onnx.ClrpException">Bad settings, or the inputs changed since submission.</exception>
    internal JobContext For(JobSpec spec)
    {
        string key = spec.SettingsJson + "\n" + spec.Inputs + "\n" + spec.OutDir + "\n" + spec.ManifestFingerprint;
        Lazy<JobContext> lazy = _jobs.GetOrAdd(key, _ => new Lazy<JobContext>(() => Create(spec)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            _jobs.TryRemove(key, out _);
            throw;
        }
    }

    /// <summary>SHA-256 over the manifest's names and targets in order: what the submitter and every worker must agree on.</summary>
    public static string Fingerprint(InputManifest manifest)
    {
        var text = new StringBuilder();
        foreach (ManifestEntry e in manifest.Entries)
        {
            text.Append(e.Name).Append('\t').Append(e.TargetClass?.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        return ContentHash.Of(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private JobContext Create(JobSpec spec)
    {
        BatchSettings settings = BatchSettings.FromJson(spec.SettingsJson);
        settings.Validate();
        var layout = new OutputLayout(spec.OutDir);
        InputManifest manifest = InputManifest.Resolve(spec.Inputs, layout.Root);
        if (manifest.Entries.Count != spec.Total || Fingerprint(manifest) != spec.ManifestFingerprint)
        {
            throw new Onnx.InvalidOptionsException($"the inputs of {manifest.Source} changed since the job was submitted ({manifest.Entries.Count} inputs now, {spec.Total} then); submit it again under a new --job name.");
        }

        BatchExplainers explainers = _explainers.GetOrAdd(spec.SettingsJson, _ => new Lazy<BatchExplainers>(() =>
            new BatchExplainers(settings, _options.Device, message => _logger.LogInformation("{Message}", message)))).Value;
        return new JobContext(settings, manifest, layout, new BatchProcessor(settings, layout, explainers));
    }

    /// <summary>
    /// Marks the explainers in use until the result is disposed. A silo that stops (or is killed) disposes this object
    /// while a worker thread may still be inside ONNX Runtime: disposing a session under a running call crashes the
    /// process, so <see cref="Dispose"/> waits for the work in progress first.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The silo is stopping.</exception>
    public IDisposable Use()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _inUse++;
            return new InUse(this);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            DateTime giveUp = DateTime.UtcNow.AddMinutes(2);
            while (_inUse > 0)
            {
                TimeSpan left = giveUp - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    // Still explaining after two minutes: leave the sessions to the process's exit rather than crash it.
                    _logger.LogWarning("{Count} mini-batch(es) still running at shutdown; explainers not disposed", _inUse);
                    return;
                }

                Monitor.Wait(_gate, left);
            }
        }

        foreach (Lazy<BatchExplainers> lazy in _explainers.Values.Where(l => l.IsValueCreated))
        {
            lazy.Value.Dispose();
        }
    }

    private void Release()
    {
        lock (_gate)
        {
            _inUse--;
            Monitor.PulseAll(_gate);
        }
    }

    private sealed class InUse(JobResources owner) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                owner.Release();
            }
        }
    }
}
