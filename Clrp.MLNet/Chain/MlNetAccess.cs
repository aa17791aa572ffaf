using System.Collections;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

namespace Clrp.MLNet.Chain;

/// <summary>
/// The few things a fitted ML.NET chain knows but keeps internal (checked by reflection on ML.NET 6.0.0), read here
/// and nowhere else. Each accessor is guarded: when a member is missing (another ML.NET version) it returns null and
/// the caller says what to pass instead; it never guesses. Tests (<c>MlNetAccessTests</c>) pin every accessor so that a
/// package bump that breaks one fails there first.
/// <list type="bullet">
/// <item><c>OnnxTransformer</c>: the model file (<c>Model.ModelStream.Name</c>, else <c>_options.ModelFile</c>), the
/// input/output column names (<c>Inputs</c>, <c>Outputs</c>) and the GPU options (<c>_options</c>).</item>
/// <item><c>ImagePixelExtractingTransformer.Columns</c> (offset, scale, output name) — found by type name, so that this
/// library does not depend on Microsoft.ML.ImageAnalytics.</item>
/// <item><c>NormalizingTransformer.Columns</c> and <c>OneToOneTransformerBase.ColumnPairs</c> (which column each
/// normaliser and column copy writes), <c>OneVersusAllModelParameters.SubModelParameters</c>.</item>
/// <item>The transformer behind a data view (<c>RowToRowMapperTransform._mapper.GetTransformer()</c>, <c>Source</c>),
/// to find the <c>ExtractPixels</c> step that produced a column.</item>
/// <item>The GPU defaults of the MLContext behind a <see cref="TransformsCatalog"/> (<c>_env</c>).</item>
/// </list>
/// </summary>
internal static class MlNetAccess
{
    private const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    /// <summary>Type name of ML.NET's pixel extractor (Microsoft.ML.ImageAnalytics).</summary>
    public const string PixelExtractorType = "Microsoft.ML.Transforms.Image.ImagePixelExtractingTransformer";

    /// <summary>What an <c>ApplyOnnxModel</c> step runs.</summary>
    public sealed record OnnxStep(string ModelPath, string[] Inputs, string[] Outputs, int? GpuDeviceId, bool FallbackToCpu);

    /// <summary>One column of an <c>ExtractPixels</c> step: value = (pixel − offset)·scale, pixels in [0, 255].</summary>
    public sealed record PixelColumn(string Name, float Offset, float Scale, bool AsFloats);

    /// <summary>The model file, columns and device of a fitted <c>ApplyOnnxModel</c>, or null when ML.NET hides them.</summary>
    public static OnnxStep? ReadOnnx(OnnxTransformer transformer)
    {
        object? options = Get(transformer, "_options");
        string? path = Get(Get(Get(transformer, "Model"), "ModelStream"), "Name") as string ?? Get(options, "ModelFile") as string;
        if (path is null || !File.Exists(path) || Get(transformer, "Inputs") is not string[] inputs || Get(transformer, "Outputs") is not string[] outputs)
        {
            return null;
        }

        return new OnnxStep(path, inputs, outputs, Get(options, "GpuDeviceId") as int?, Get(options, "FallbackToCpu") as bool? ?? false);
    }

    /// <summary>The columns of an <c>ExtractPixels</c> step, or null when <paramref name="transformer"/> is not one or hides them.</summary>
    public static IReadOnlyList<PixelColumn>? ReadPixels(ITransformer transformer)
    {
        if (transformer.GetType().FullName != PixelExtractorType || Get(transformer, "Columns") is not IEnumerable columns)
        {
            return null;
        }

        var result = new List<PixelColumn>();
        foreach (object column in columns)
        {
            if (Get(column, "Name") is not string name || Get(column, "OffsetImage") is not float offset || Get(column, "ScaleImage") is not float scale)
            {
                return null;
            }

            result.Add(new PixelColumn(name, offset, scale, Get(column, "OutputAsFloatArray") as bool? ?? true));
        }

        return result;
    }

    /// <summary>(output, input) column pairs of a one-to-one transformer (column copies, normalisers), or null.</summary>
    public static IReadOnlyList<(string Output, string Input)>? ReadColumnPairs(ITransformer transformer)
    {
        if (Get(transformer, "ColumnPairs") is not Array pairs)
        {
            return null;
        }

        var result = new List<(string, string)>();
        foreach (object? pair in pairs)
        {
            if (pair is not ValueTuple<string, string> tuple)
            {
                return null;
            }

            result.Add(tuple);
        }

        return result;
    }

    /// <summary>The per-class models of a one-versus-all model, or null.</summary>
    public static IReadOnlyList<object>? ReadSubModels(Microsoft.ML.Trainers.OneVersusAllModelParameters model) =>
        Get(model, "SubModelParameters") is IEnumerable models ? models.Cast<object>().ToList() : null;

    /// <summary>The transformer that made <paramref name="view"/> from its source, and that source; nulls where ML.NET hides them.</summary>
    public static (ITransformer? Transformer, IDataView? Source) Step(IDataView view)
    {
        var source = Get(view, "Source") as IDataView;
        object? mapper = Get(view, "_mapper");
        var transformer = mapper?.GetType().GetMethod("GetTransformer", Any, Type.EmptyTypes)?.Invoke(mapper, null) as ITransformer;
        return (transformer, source);
    }

    /// <summary>The GPU settings of the MLContext a catalog was made from (its environment's <c>GpuDeviceId</c>, <c>FallbackToCpu</c>), or nulls.</summary>
    public static (int? GpuDeviceId, bool? FallbackToCpu) GpuDefaultsOf(TransformsCatalog catalog)
    {
        object? environment = Get(catalog, "_env") ?? Get(catalog, "Environment");
        return (Get(environment, "GpuDeviceId") as int?, Get(environment, "FallbackToCpu") as bool?);
    }

    /// <summary>A field or property of any visibility, searched up the type hierarchy; null when absent or throwing.</summary>
    private static object? Get(object? target, string member)
    {
        for (Type? type = target?.GetType(); type is not null; type = type.BaseType)
        {
            try
            {
                if (type.GetField(member, Any | BindingFlags.DeclaredOnly) is { } field)
                {
                    return field.GetValue(target);
                }

                if (type.GetProperty(member, Any | BindingFlags.DeclaredOnly) is { GetMethod: not null } property && property.GetIndexParameters().Length == 0)
                {
                    return property.GetValue(target);
                }
            }
            catch (Exception e) when (e is TargetInvocationException or FieldAccessException or MethodAccessException or InvalidOperationException)
            {
                return null;
            }
        }

        return null;
    }
}
