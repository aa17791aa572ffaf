using System.Globalization;
using Clrp.Onnx;

namespace Clrp.Batch;

/// <summary>
/// Turns the text of the explain options (<c>--model --method --rules --low --high --mean --std --dual-seed --epsilon
/// --gamma --output --size --target --top-k</c>) into <see cref="BatchSettings"/>, for every front end that starts a
/// batch job (<c>clrp explain --inputs</c>, <c>clrp-cluster submit</c>), so that both read a command line the same way.
/// Numbers use the invariant culture; every mistake is an <see cref="InvalidOptionsException"/> naming the option.
/// </summary>
public static class BatchOptionText
{
    /// <summary>The option names read, with the defaults of <c>clrp explain</c>.</summary>
    public static IReadOnlyDictionary<string, string?> Defaults { get; } = new Dictionary<string, string?>
    {
        ["--model"] = null, ["--method"] = "clrp1", ["--rules"] = "paper", ["--low"] = null, ["--high"] = null,
        ["--mean"] = null, ["--std"] = null, ["--dual-seed"] = "uniform", ["--epsilon"] = "1e-6", ["--gamma"] = "0.25",
        ["--output"] = null, ["--size"] = null, ["--target"] = null, ["--top-k"] = null, ["--engine"] = "auto",
    };

    /// <summary>Parses and validates the options.</summary>
    /// <param name="value">The text given for an option name (e.g. "--mean"), or null when absent (the default applies).</param>
    /// <param name="heatmaps">False for --no-heatmaps.</param>
    public static BatchSettings Parse(Func<string, string?> value, bool heatmaps)
    {
        ArgumentNullException.ThrowIfNull(value);
        string? Text(string name) => value(name) ?? Defaults[name];
        var settings = new BatchSettings
        {
            ModelPath = Text("--model") ?? throw new InvalidOptionsException("--model is required: the ONNX classifier to explain."),
            Method = Text("--method")!.Trim().ToLowerInvariant(),
            Rules = Text("--rules")!.Trim().ToLowerInvariant(),
            Low = Floats("--low", Text("--low")),
            High = Floats("--high", Text("--high")),
            Mean = Floats("--mean", Text("--mean")),
            Std = Floats("--std", Text("--std")),
            DualSeed = Text("--dual-seed")!.Trim().ToLowerInvariant(),
            Epsilon = Float("--epsilon", Text("--epsilon")!),
            Gamma = Float("--gamma", Text("--gamma")!),
            OutputName = Text("--output"),
            Size = Text("--size") is { } size ? Ints("--size", size, 1) : null,
            TargetClass = Text("--target") is { } target ? Int("--target", target, 0) : null,
            TopK = Text("--top-k") is { } topK ? Int("--top-k", topK, 1) : null,
            Engine = Text("--engine")!.Trim().ToLowerInvariant(),
            Heatmaps = heatmaps,
        };
        settings.Validate();
        return settings;
    }

    /// <summary>One integer ≥ <paramref name="min"/>.</summary>
    public static int Int(string option, string text, int min)
    {
        int[] values = Ints(option, text, min);
        return values.Length == 1 ? values[0] : throw new InvalidOptionsException($"{option} takes one integer, got '{text}'.");
    }

    private static float Float(string option, string text)
    {
        float[] values = Floats(option, text)!;
        return values.Length == 1 ? values[0] : throw new InvalidOptionsException($"{option} takes one number, got '{text}'.");
    }

    private static float[]? Floats(string option, string? text) => text is null ? null
        : [.. Split(option, text).Select(part => float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)
            ? v
            : throw new InvalidOptionsException($"{option} expects finite numbers separated by commas, e.g. 0.5 or 0.485,0.456,0.406; '{part}' in '{text}' is not one."))];

    private static int[] Ints(string option, string text, int min) =>
        [.. Split(option, text).Select(part => int.TryParse(part, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v)
            ? (v >= min ? v : throw new InvalidOptionsException($"{option} must be ≥ {min}, got {v}."))
            : throw new InvalidOptionsException($"{option} expects integers, got '{part}' in '{text}'."))];

    private static string[] Split(string option, string text)
    {
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        return string.IsNullOrWhiteSpace(text) || parts.Any(p => p.Length == 0)
            ? throw new InvalidOptionsException($"{option} needs a value without empty entries, e.g. 0.485,0.456,0.406; got '{text}'.")
            : parts;
    }
}
