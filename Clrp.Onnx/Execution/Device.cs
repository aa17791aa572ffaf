namespace Clrp.Onnx.Execution;

/// <summary>Where ONNX Runtime runs the model's forward pass (the relevance walk itself is managed code).</summary>
public sealed record Device
{
    private Device(bool isCuda, int deviceId, bool fallbackToCpu)
    {
        IsCuda = isCuda;
        DeviceId = deviceId;
        FallbackToCpu = fallbackToCpu;
    }

    /// <summary>The CPU execution provider.</summary>
    public static Device Cpu { get; } = new(false, 0, true);

    /// <summary>True for the CUDA execution provider.</summary>
    public bool IsCuda { get; }

    /// <summary>The CUDA device ordinal.</summary>
    public int DeviceId { get; }

    /// <summary>When CUDA cannot be loaded: use the CPU (and say so once in the log) instead of throwing <see cref="DeviceUnavailableException"/>.</summary>
    public bool FallbackToCpu { get; }

    /// <summary>The CUDA execution provider on device <paramref name="deviceId"/>.</summary>
    public static Device Cuda(int deviceId = 0, bool fallbackToCpu = true) =>
        deviceId >= 0 ? new(true, deviceId, fallbackToCpu) : throw new InvalidOptionsException($"CUDA device id must be ≥ 0, got {deviceId}.");

    /// <summary>Parses "cpu", "cuda" or "cuda:ID" (the CLI's --device).</summary>
    public static Device Parse(string text, bool fallbackToCpu = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }

        if (t == "cuda")
        {
            return Cuda(0, fallbackToCpu);
        }

        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
        {
            return Cuda(id, fallbackToCpu);
        }

        throw new InvalidOptionsException($"device '{text}' is not one of cpu, cuda, cuda:ID.");
    }

    public override string ToString() => IsCuda ? $"cuda:{DeviceId}" : "cpu";
}
