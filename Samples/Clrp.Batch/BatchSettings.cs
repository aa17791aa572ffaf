using System.Text.Json;
using System.Text.Json.Serialization;
using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;

namespace Clrp.Batch;

/// <summary>
/// What a batch job computes for every input, as plain values (the <c>clrp explain</c> options), so that it can be
/// written to <c>job.json</c>, sent to a cluster and rebuilt into an explainer on any machine. Everything here except
/// <see cref="ModelPath"/> decides the bytes of the outputs; together with the model's SHA-256 it is the job's
/// identity (<see cref="IdentityJson"/>): an output folder holds the results of one identity only.
/// </summary>
public sealed record BatchSettings
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>The ONNX classifier (--model). Not part of the identity: the same file may sit elsewhere on another machine.</summary>
    public required string ModelPath { get; init; }

    /// <summary>--method: lrp, clrp1, clrp2, sglrp, gradient, gradient-input.</summary>
    public string Method { get; init; } = "clrp1";

    /// <summary>--rules: a composite name.</summary>
    public string Rules { get; init; } = "paper";

    /// <summary>--low (z^B lower bound, one value or one per channel), or null.</summary>
    public float[]? Low { get; init; }

    /// <summary>--high, or null.</summary>
    public float[]? High { get; init; }

    /// <summary>--mean (normalises pictures; implies the z^B bounds), or null.</summary>
    public float[]? Mean { get; init; }

    /// <summary>--std, or null.</summary>
    public float[]? Std { get; init; }

    /// <summary>--dual-seed: uniform or logits.</summary>
    public string DualSeed { get; init; } = "uniform";

    /// <summary>--epsilon of the ε rule.</summary>
    public float Epsilon { get; init; } = 1e-6f;

    /// <summary>--gamma of the γ rule.</summary>
    public float Gamma { get; init; } = 0.25f;

    /// <summary>--output: the tensor to explain, or null for the logits.</summary>
    public string? OutputName { get; init; }

    /// <summary>--size as [W, H] for pictures, or null for the model's own size.</summary>
    public int[]? Size { get; init; }

    /// <summary>--target K for every input (a manifest's <c>target</c> column overrides it per input), or null.</summary>
    public int? TargetClass { get; init; }

    /// <summary>--top-k N, or null.</summary>
    public int? TopK { get; init; }

    /// <summary>--engine: auto, compiled or managed (the two engines agree to 1e-5, not bit for bit).</summary>
    public string Engine { get; init; } = "auto";

    /// <summary>Write a heatmap PNG per input and class beside the relevance .npy.</summary>
    public bool Heatmaps { get; init; } = true;

    /// <summary>The method as the library's enum.</summary>
    [JsonIgnore]
    public ExplainMethod MethodKind => ExplainMethods.Parse(Method);

    /// <summary>The target of inputs without their own: a class, the top k, or the predicted class.</summary>
    [JsonIgnore]
    public Target DefaultTarget => TargetClass is { } k ? Target.Class(k) : TopK is { } n ? Target.TopK(n) : Target.Predicted;

    /// <summary>Throws <see cref="InvalidOptionsException"/> naming the option when the values contradict each other.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(ModelPath);
        _ = ExplainMethods.Parse(Method);
        _ = ParseDualSeed(DualSeed);
        _ = ParseEngine(Engine);
        if (!Composites.Names.Contains(Rules))
        {
            throw new InvalidOptionsException($"unknown rules '{Rules}'; expected one of {string.Join(", ", Composites.Names)}.");
        }

        RequirePair("--low", Low, "--high", High);
        RequirePair("--mean", Mean, "--std", Std);
        if (Low is not null && Mean is not null)
        {
            throw new InvalidOptionsException("give the z^B bounds either as --low/--high or as --mean/--std, not both.");
        }

        if (TargetClass is not null && TopK is not null)
        {
            throw new InvalidOptionsException("--target and --top-k cannot be used together; give one of them.");
        }

        if (TargetClass is < 0)
        {
            throw new InvalidOptionsException($"--target must be ≥ 0, got {TargetClass}.");
        }

        if (TopK is < 1)
        {
            throw new InvalidOptionsException($"--top-k must be ≥ 1, got {TopK}.");
        }

        if (Size is not null && (Size.Length != 2 || Size.Any(s => s < 1)))
        {
            throw new InvalidOptionsException($"--size takes two positive integers W,H, got {Size.Length} value(s).");
        }

        if (!float.IsFinite(Epsilon) || Epsilon < 0 || !float.IsFinite(Gamma))
        {
            throw new InvalidOptionsException($"--epsilon must be a finite number ≥ 0 and --gamma finite; got {Epsilon} and {Gamma}.");
        }
    }

    /// <summary>
    /// The z^B bounds for one kind of input, as <c>clrp explain</c> chooses them: --low/--high, else (0−mean)/std and
    /// (1−mean)/std, else [0, 1] for pictures and each .npy input's own per-channel range (null).
    /// </summary>
    public BoxBounds? BoundsFor(InputKind kind) =>
        Low is not null ? new BoxBounds(Low, High!)
        : Mean is not null ? BoxBounds.FromMeanStd(Mean, Std!)
        : kind == InputKind.Picture ? new BoxBounds([0f], [1f])
        : null;

    /// <summary>True when pictures and .npy inputs get the same bounds, hence can share one explainer.</summary>
    [JsonIgnore]
    public bool BoundsIndependentOfKind => Low is not null || Mean is not null;

    /// <summary>The explainer options for inputs of <paramref name="kind"/> on <paramref name="device"/>.</summary>
    /// <param name="kind">Pictures or .npy inputs (their default z^B bounds differ).</param>
    /// <param name="device">Where ONNX Runtime runs.</param>
    /// <param name="log">Library notes, or null.</param>
    /// <param name="cacheDirectory">Where compiled explainer graphs are kept between runs, or null for none.</param>
    public ExplainerOptions CreateExplainerOptions(InputKind kind, Device device, Action<string>? log, string? cacheDirectory = null)
    {
        BoxBounds? bounds = BoundsFor(kind);
        return new ExplainerOptions
        {
            Method = MethodKind,
            Rules = Composites.ByName(Rules, bounds, Epsilon, Gamma),
            Bounds = bounds,
            Device = device,
            DualSeed = ParseDualSeed(DualSeed),
            OutputName = OutputName,
            Log = log,
            CacheDirectory = cacheDirectory,
            Engine = ParseEngine(Engine),
        };
    }

    /// <summary>The settings as JSON (the cluster's wire format).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads <see cref="ToJson"/>'s text; throws <see cref="InvalidOptionsException"/> when it is not such JSON.</summary>
    public static BatchSettings FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<BatchSettings>(json, Json) ?? throw new InvalidOptionsException("the job settings are empty.");
        }
        catch (JsonException e)
        {
            throw new InvalidOptionsException($"the job settings are not valid JSON: {e.Message}");
        }
    }

    /// <summary>
    /// The job's identity as written to <c>job.json</c>: every setting that decides the outputs, and the model's
    /// SHA-256 in place of its path.
    /// </summary>
    public string IdentityJson(string modelSha256) =>
        JsonSerializer.Serialize(new JobIdentity(1, modelSha256, this with { ModelPath = Path.GetFileName(ModelPath) }), Json) + "\n";

    private static DualSeed ParseDualSeed(string text) => text.Trim().ToLowerInvariant() switch
    {
        "uniform" => Onnx.Explaining.DualSeed.Uniform,
        "logits" => Onnx.Explaining.DualSeed.PerClassLogit,
        _ => throw new InvalidOptionsException($"unknown --dual-seed '{text}'; expected uniform or logits."),
    };

    private static ExplainerEngine ParseEngine(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => ExplainerEngine.Auto,
        "compiled" => ExplainerEngine.Compiled,
        "managed" => ExplainerEngine.Managed,
        _ => throw new InvalidOptionsException($"unknown --engine '{text}'; expected auto, compiled or managed."),
    };

    private static void RequirePair(string first, float[]? a, string second, float[]? b)
    {
        if ((a is null) != (b is null))
        {
            (string given, string missing) = a is null ? (second, first) : (first, second);
            throw new InvalidOptionsException($"{given} needs {missing} as well.");
        }
    }

    /// <summary>The content of <c>job.json</c>.</summary>
    /// <param name="Format">Layout version; 1 = items/&lt;h0h1&gt;/&lt;sha256&gt;/ with record.json (first version).</param>
    /// <param name="ModelSha256">SHA-256 of the model file.</param>
    /// <param name="Settings">The settings, the model named by its file name only.</param>
    private sealed record JobIdentity(int Format, string ModelSha256, BatchSettings Settings);
}

/// <summary>How an input file is read: a picture (decoded, resized, normalised) or a float32 .npy used as stored.</summary>
public enum InputKind
{
    Picture,
    Npy,
}
