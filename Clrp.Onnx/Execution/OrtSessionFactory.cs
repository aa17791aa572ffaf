using Microsoft.ML.OnnxRuntime;

namespace Clrp.Onnx.Execution;

/// <summary>
/// Creates ONNX Runtime sessions on the requested <see cref="Device"/>. CUDA is tried for real:
/// <c>OrtEnv.GetAvailableProviders()</c> lists CUDA whenever it was compiled in, even where its libraries
/// cannot load, so only creating the session tells. On failure the factory falls back to the CPU with
/// one log line, or throws <see cref="DeviceUnavailableException"/> when fallback is off.
/// </summary>
internal static class OrtSessionFactory
{
    private static readonly Lock EnvironmentGate = new();

    /// <summary>
    /// Makes sure ORT's process-wide environment exists. Creating it ourselves, quiet, keeps ORT's own warnings
    /// (e.g. a failed CUDA load) off stderr; the factory reports what matters in one line instead. When the
    /// host already created one (ML.NET, or a plain InferenceSession opened first), that one is used as it is.
    /// </summary>
    internal static void EnsureEnvironment()
    {
        try
        {
            CreateEnvironment();
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            // The first call into ONNX Runtime loads its native library. The packages reference ONNX Runtime's managed API
            // only (the app chooses the CPU or the CUDA build, as with ML.NET), so an app without a native package fails
            // here: say what to add instead of ONNX Runtime's bare TypeInitializationException.
            Exception cause = e is TypeInitializationException { InnerException: { } inner } ? inner : e;
            throw new DeviceUnavailableException(
                $"ONNX Runtime's native library cannot be loaded ({FirstLine(cause.Message)}). The application chooses ONNX Runtime's native build: reference the package Microsoft.ML.OnnxRuntime (CPU) or Microsoft.ML.OnnxRuntime.Gpu (CUDA).", e);
        }
    }

    private static void CreateEnvironment()
    {
        if (OrtEnv.IsCreated)
        {
            return;
        }

        lock (EnvironmentGate)
        {
            if (OrtEnv.IsCreated)
            {
                return;
            }

            try
            {
                var options = new EnvironmentCreationOptions { logId = "clrp", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
                OrtEnv.CreateInstanceWithOptions(ref options);
            }
            catch (OnnxRuntimeException)
            {
                // Another thread or library created it between the check and the call: use theirs.
                _ = OrtEnv.Instance();
            }
        }
    }

    /// <summary>Opens <paramref name="model"/> (serialized ONNX) on <paramref name="device"/>.</summary>
    /// <param name="model">The serialized model.</param>
    /// <param name="device">Where to run it.</param>
    /// <param name="source">Names the model in messages.</param>
    /// <param name="log">Receives the CUDA fallback line.</param>
    /// <returns>The session and the execution provider actually used ("CPU" or "CUDA:id").</returns>
    public static (InferenceSession Session, string Provider) Create(byte[] model, Device device, string source, Action<string>? log) =>
        Create(new SessionInput(model, null), device, source, log);

    /// <summary>
    /// Opens a model given as bytes or as a file on <paramref name="device"/>. <see cref="SessionInput.SaveOptimizedTo"/>
    /// makes ONNX Runtime write its optimised graph there (CPU); <see cref="SessionInput.PreOptimized"/> opens such a graph
    /// without optimising it again.
    /// </summary>
    public static (InferenceSession Session, string Provider) Create(SessionInput model, Device device, string source, Action<string>? log)
    {
        EnsureEnvironment();
        if (device.IsCuda)
        {
            SessionOptions? cudaOptions = null;
            try
            {
                using var provider = new OrtCUDAProviderOptions();
                provider.UpdateOptions(new Dictionary<string, string>
                {
                    ["device_id"] = device.DeviceId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    // Full float32. ORT's default lets cuDNN/cuBLAS use TF32 tensor cores, which round inputs to 10
                    // mantissa bits: VGG16 maps then differed from the CPU's by 1.3e-3 (LRP) and 2e-2 (CLRP, a
                    // difference of two near-equal maps) on an H100. Explanations need the forward pass exact.
                    ["use_tf32"] = "0",
                });
                cudaOptions = SessionOptions.MakeSessionOptionWithCudaProvider(provider);
                cudaOptions.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                var session = model.Open(cudaOptions);
                cudaOptions.Dispose();
                return (session, $"CUDA:{device.DeviceId}");
            }
            catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                cudaOptions?.Dispose();
                string reason = FirstLine(e.Message);
                if (!device.FallbackToCpu)
                {
                    throw new DeviceUnavailableException($"CUDA device {device.DeviceId} cannot be used for '{source}': {reason}", e);
                }

                log?.Invoke($"CUDA device {device.DeviceId} is unavailable ({reason}); running on the CPU.");
            }
        }

        using var cpuOptions = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        if (model.PreOptimized)
        {
            cpuOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL;
        }
        else if (model.SaveOptimizedTo is { } target)
        {
            cpuOptions.OptimizedModelFilePath = target;
        }

        try
        {
            return (model.Open(cpuOptions), "CPU");
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelLoadException($"ONNX Runtime cannot load '{source}': {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>
    /// A CPU session for a kernel model built by ClrpMl itself (no fallback logic, no user file involved). A walk
    /// runs dozens of these one after another, so they share one arena (registered with the environment) instead of
    /// each keeping its own im2col buffers, and their threads do not spin after a run: a spinning pool of the
    /// previous layer's session would take the cores from the next one's.
    /// </summary>
    public static InferenceSession CreateKernelSession(byte[] model)
    {
        EnsureEnvironment();
        bool shared = EnsureSharedCpuArena();
        using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        if (shared)
        {
            options.AddSessionConfigEntry("session.use_env_allocators", "1");
        }

        return new InferenceSession(model, options);
    }

    private static bool? _sharedCpuArena;

    /// <summary>
    /// Registers one CPU arena allocator with ORT's environment (once per process), growing by what is requested
    /// rather than by powers of two. False where that is impossible (a host registered its own first, which the
    /// sessions then share too, or the call failed): kernel sessions then keep per-session arenas.
    /// </summary>
    private static bool EnsureSharedCpuArena()
    {
        lock (EnvironmentGate)
        {
            if (_sharedCpuArena is bool known)
            {
                return known;
            }

            try
            {
                using var memory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCPU, OrtAllocatorType.ArenaAllocator, 0, OrtMemType.Default);
                using var arena = new OrtArenaCfg(0, 1, -1, -1);
                OrtEnv.Instance().CreateAndRegisterAllocator(memory, arena);
                _sharedCpuArena = true;
            }
            catch (OnnxRuntimeException)
            {
                _sharedCpuArena = false;
            }

            return _sharedCpuArena.Value;
        }
    }

    private static string FirstLine(string message)
    {
        string line = message.Split('\n', 2)[0].Trim();
        return line.Length > 300 ? line[..300] + "…" : line;
    }
}

/// <summary>A model for <see cref="OrtSessionFactory.Create(SessionInput, Device, string, Action{string}?)"/>: bytes or a file.</summary>
/// <param name="Bytes">The serialized model, or null.</param>
/// <param name="Path">The model file, when <paramref name="Bytes"/> is null.</param>
/// <param name="SaveOptimizedTo">CPU: where ONNX Runtime writes the graph it optimised, or null.</param>
/// <param name="PreOptimized">True for a graph ONNX Runtime optimised before (opened without optimising again).</param>
internal sealed record SessionInput(byte[]? Bytes, string? Path, string? SaveOptimizedTo = null, bool PreOptimized = false)
{
    public InferenceSession Open(SessionOptions options) => Bytes is not null ? new InferenceSession(Bytes, options) : new InferenceSession(Path!, options);
}
