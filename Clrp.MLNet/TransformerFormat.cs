using System.Security.Cryptography;
using System.Text;
using Clrp.Onnx;
using Clrp.Onnx.Explaining;

namespace Clrp.MLNet;

/// <summary>
/// The binary form of a saved <see cref="ClrpTransformer"/>: magic, version, options, per-row dimensions, and the
/// ONNX model with its SHA-256 (checked on read). Little-endian, strings UTF-8 with a length prefix.
/// </summary>
internal static class TransformerFormat
{
    // Version history (bump on any change to what is written; readers accept every version ≤ Current):
    // 1: first format — options, dimensions, model bytes + SHA-256.
    // 2: + ClassNames and AddModelOutputColumn (after BatchSize).
    // 3: + Engine (after AddModelOutputColumn); older files explain with ExplainerEngine.Auto.
    private const int Current = 3;
    private static readonly byte[] Magic = "CLRPMLNT"u8.ToArray();

    public static void Write(Stream stream, ExplanationLayout layout, byte[] model)
    {
        ClrpExplainOptions o = layout.Options;
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Current);
        w.Write(o.ModelPath);
        w.Write(layout.InputColumn);
        w.Write((int)o.Method);
        w.Write(o.Rules);
        WriteFloats(w, o.Mean);
        WriteFloats(w, o.Std);
        WriteFloats(w, o.Low);
        WriteFloats(w, o.High);
        w.Write(o.Epsilon);
        w.Write(o.Gamma);
        w.Write((int)o.DualSeed);
        w.Write((int)o.Target.Kind);
        w.Write(o.Target.Value);
        WriteNullable(w, o.Target.ColumnName);
        WriteNullable(w, o.OutputTensorName);
        w.Write(o.RelevanceColumnName);
        w.Write(o.HeatmapColumnName);
        w.Write(o.ExplainedClassColumnName);
        w.Write(o.LogitsColumnName);
        w.Write(o.GpuDeviceId ?? -1);
        w.Write(o.FallbackToCpu is null ? (byte)2 : o.FallbackToCpu.Value ? (byte)1 : (byte)0);
        w.Write(o.BatchSize);
        w.Write(o.ClassNames?.Length ?? -1);
        foreach (string name in o.ClassNames ?? [])
        {
            w.Write(name);
        }

        w.Write(o.AddModelOutputColumn);
        w.Write((int)o.Engine);
        w.Write(layout.InputDims.Length);
        foreach (int d in layout.InputDims)
        {
            w.Write(d);
        }

        w.Write(model.LongLength);
        w.Write(model);
        w.Write(SHA256.HashData(model));
    }

    public static (ClrpExplainOptions Options, int[] Dims, byte[] Model) Read(Stream stream)
    {
        try
        {
            using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic))
            {
                throw new ModelLoadException("not a saved ClrpTransformer (bad magic).");
            }

            int version = r.ReadInt32();
            if (version is < 1 or > Current)
            {
                throw new ModelLoadException($"saved ClrpTransformer has format version {version}; this library reads versions 1 to {Current}.");
            }

            var o = new ClrpExplainOptions
            {
                ModelPath = r.ReadString(),
                InputColumnName = r.ReadString(),
                Method = (ExplainMethod)r.ReadInt32(),
                Rules = r.ReadString(),
                Mean = ReadFloats(r),
                Std = ReadFloats(r),
                Low = ReadFloats(r),
                High = ReadFloats(r),
                Epsilon = r.ReadSingle(),
                Gamma = r.ReadSingle(),
                DualSeed = (DualSeed)r.ReadInt32(),
            };
            var kind = (ExplainTargetKind)r.ReadInt32();
            int value = r.ReadInt32();
            string? column = ReadNullable(r);
            o.Target = kind switch
            {
                ExplainTargetKind.Class => ExplainTarget.Class(value),
                ExplainTargetKind.TopK => ExplainTarget.TopK(value),
                ExplainTargetKind.Column => ExplainTarget.Column(column!),
                _ => ExplainTarget.Predicted,
            };
            o.OutputTensorName = ReadNullable(r);
            o.RelevanceColumnName = r.ReadString();
            o.HeatmapColumnName = r.ReadString();
            o.ExplainedClassColumnName = r.ReadString();
            o.LogitsColumnName = r.ReadString();
            int gpu = r.ReadInt32();
            o.GpuDeviceId = gpu < 0 ? null : gpu;
            byte fallback = r.ReadByte();
            o.FallbackToCpu = fallback == 2 ? null : fallback == 1;
            o.BatchSize = r.ReadInt32();
            if (version >= 2)
            {
                int names = r.ReadInt32();
                o.ClassNames = names < 0 ? null : Enumerable.Range(0, names).Select(_ => r.ReadString()).ToArray();
                o.AddModelOutputColumn = r.ReadBoolean();
            }

            if (version >= 3)
            {
                o.Engine = (ExplainerEngine)r.ReadInt32();
                if (!Enum.IsDefined(o.Engine))
                {
                    throw new ModelLoadException($"saved ClrpTransformer names an unknown explainer engine ({(int)o.Engine}).");
                }
            }

            int[] dims = new int[r.ReadInt32()];
            for (int i = 0; i < dims.Length; i++)
            {
                dims[i] = r.ReadInt32();
            }

            long length = r.ReadInt64();
            byte[] model = r.ReadBytes(checked((int)length));
            byte[] hash = r.ReadBytes(32);
            if (model.Length != length || !SHA256.HashData(model).AsSpan().SequenceEqual(hash))
            {
                throw new ModelLoadException("saved ClrpTransformer is truncated or corrupt (model bytes do not match their SHA-256).");
            }

            return (o, dims, model);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or OverflowException or ArgumentException)
        {
            throw new ModelLoadException($"saved ClrpTransformer cannot be read: {e.Message}", e);
        }
    }

    private static void WriteFloats(BinaryWriter w, float[]? values)
    {
        w.Write(values?.Length ?? -1);
        foreach (float v in values ?? [])
        {
            w.Write(v);
        }
    }

    private static float[]? ReadFloats(BinaryReader r)
    {
        int n = r.ReadInt32();
        if (n < 0)
        {
            return null;
        }

        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = r.ReadSingle();
        }

        return values;
    }

    private static void WriteNullable(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? ReadNullable(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
