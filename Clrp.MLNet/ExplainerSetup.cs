using Clrp.Onnx;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Execution;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Microsoft.ML;

namespace Clrp.MLNet;

/// <summary>Turns <see cref="ClrpExplainOptions"/> and the MLContext's GPU settings into the core explainer's options.</summary>
internal static class ExplainerSetup
{
    /// <summary>Checks what the core cannot check for us (column names, batch size, bounds pairs).</summary>
    /// <exception cref="InvalidOptionsException">The options contradict each other.</exception>
    public static void Validate(ClrpExplainOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.ModelPath))
        {
            throw new InvalidOptionsException("ClrpExplainOptions.ModelPath is required: the ONNX file given to ApplyOnnxModel.");
        }

        if (options.BatchSize < 1)
        {
            throw new InvalidOptionsException($"ClrpExplainOptions.BatchSize must be ≥ 1, got {options.BatchSize}.");
        }

        ArgumentNullException.ThrowIfNull(options.Target);
        string[] outputs = [options.RelevanceColumnName, options.HeatmapColumnName, options.ExplainedClassColumnName, options.LogitsColumnName];
        if (outputs.Any(string.IsNullOrWhiteSpace) || outputs.Distinct(StringComparer.Ordinal).Count() != outputs.Length)
        {
            throw new InvalidOptionsException($"output column names must be non-empty and distinct; got Relevance '{outputs[0]}', Heatmap '{outputs[1]}', ExplainedClass '{outputs[2]}', Logits '{outputs[3]}'.");
        }

        if ((options.Mean is null) != (options.Std is null))
        {
            throw new InvalidOptionsException("ClrpExplainOptions.Mean and Std go together: set both or neither.");
        }

        if ((options.Low is null) != (options.High is null))
        {
            throw new InvalidOptionsException("ClrpExplainOptions.Low and High go together: set both or neither.");
        }

        if (options.Mean is not null && options.Low is not null)
        {
            throw new InvalidOptionsException("give the z^B bounds either as Mean/Std or as Low/High, not both.");
        }

        _ = Composites.ByName(options.Rules, Bounds(options), options.Epsilon, options.Gamma);
    }

    /// <summary>The z^B bounds the options imply, or null when they come from the data.</summary>
    public static BoxBounds? Bounds(ClrpExplainOptions options) =>
        options.Mean is not null && options.Std is not null ? BoxBounds.FromMeanStd(options.Mean, options.Std)
        : options.Low is not null && options.High is not null ? new BoxBounds(options.Low, options.High)
        : null;

    /// <summary>
    /// The device: the options' GPU settings, else the MLContext's (as ApplyOnnxModel does); without a context,
    /// MLContext's own defaults (no GPU, no fallback).
    /// </summary>
    public static Device ResolveDevice(ClrpExplainOptions options, MLContext? ml)
    {
        int? gpu = options.GpuDeviceId ?? ml?.GpuDeviceId;
        bool fallback = options.FallbackToCpu ?? ml?.FallbackToCpu ?? false;
        return gpu is int id ? Device.Cuda(id, fallback) : Device.Cpu;
    }

    /// <summary>The core options for these ML.NET options.</summary>
    public static ExplainerOptions ToExplainerOptions(ClrpExplainOptions options, Device device, Action<string>? log)
    {
        BoxBounds? bounds = Bounds(options);
        return new ExplainerOptions
        {
            Method = options.Method,
            Rules = Composites.ByName(options.Rules, bounds, options.Epsilon, options.Gamma),
            Bounds = bounds,
            Device = device,
            DualSeed = options.DualSeed,
            OutputName = options.OutputTensorName,
            Engine = options.Engine,
            Log = log,
        };
    }
}
