namespace Clrp.Cluster.Grains;

/// <summary>
/// A submitted job: what to explain (the batch settings as JSON), which inputs and where to write. Every silo must
/// reach <see cref="Inputs"/>, the model and <see cref="OutDir"/> under the same paths (a shared file system).
/// </summary>
[GenerateSerializer, Immutable]
public sealed class JobSpec
{
    /// <summary><see cref="Clrp.Batch.BatchSettings.ToJson"/>: model, method, rules, bounds, target.</summary>
    [Id(0)] public required string SettingsJson { get; init; }

    /// <summary>--inputs: a folder, a list or a CSV manifest, resolved by every worker to the same order.</summary>
    [Id(1)] public required string Inputs { get; init; }

    /// <summary>--out-dir, the content-addressed output folder shared by all silos.</summary>
    [Id(2)] public required string OutDir { get; init; }

    /// <summary>Inputs per shard, the unit of work a silo pulls.</summary>
    [Id(3)] public required int ShardSize { get; init; }

    /// <summary>Number of inputs at submission.</summary>
    [Id(4)] public required int Total { get; init; }

    /// <summary>SHA-256 of the resolved manifest (names and targets, in order): a worker that resolves another list refuses.</summary>
    [Id(5)] public required string ManifestFingerprint { get; init; }

    /// <summary>Number of shards.</summary>
    public int ShardCount => (Total + ShardSize - 1) / ShardSize;

    /// <summary>True when <paramref name="other"/> asks for the same job (a resubmission).</summary>
    public bool SameJobAs(JobSpec other) => SettingsJson == other.SettingsJson && Inputs == other.Inputs && OutDir == other.OutDir
        && ShardSize == other.ShardSize && Total == other.Total && ManifestFingerprint == other.ManifestFingerprint;
}
