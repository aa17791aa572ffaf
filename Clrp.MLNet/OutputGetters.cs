using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Getters of the added columns (Relevance, Heatmap, ExplainedClass, Logits) over the explained row that
/// <c>current</c> returns: a mini-batch and the row's index in it. Vectors are copied into the caller's buffer.
/// </summary>
internal static class OutputGetters
{
    public static ValueGetter<TValue> Create<TValue>(DataViewSchema.Column column, OutputColumns outputs, ExplanationLayout layout, Func<(ExplainedBatch Batch, int Row)> current)
    {
        int index = column.Index;
        int k = layout.PerRow;
        Delegate getter;
        if (index == outputs.Relevance)
        {
            getter = FloatSlice(() => current(), b => b.Relevance, k * layout.InputLength);
        }
        else if (index == outputs.Heatmap)
        {
            getter = FloatSlice(() => current(), b => b.Heatmap, k * layout.HeatmapLength);
        }
        else if (index == outputs.ModelOutput)
        {
            getter = FloatSlice(() => current(), b => b.ModelOutput!, layout.Classes);
        }
        else if (index == outputs.Logits)
        {
            getter = FloatSlice(() => current(), b => b.Logits, layout.Classes);
        }
        else if (index == outputs.ExplainedClass && k == 1)
        {
            getter = (ValueGetter<int>)((ref int value) =>
            {
                (ExplainedBatch batch, int row) = current();
                value = batch.Classes[row];
            });
        }
        else if (index == outputs.ExplainedClass)
        {
            getter = (ValueGetter<VBuffer<int>>)((ref VBuffer<int> value) =>
            {
                (ExplainedBatch batch, int row) = current();
                var editor = VBufferEditor.Create(ref value, k);
                batch.Classes.AsSpan(row * k, k).CopyTo(editor.Values);
                value = editor.Commit();
            });
        }
        else
        {
            throw new ArgumentOutOfRangeException(nameof(column), $"column '{column.Name}' (index {index}) is not one the explainer adds.");
        }

        return getter as ValueGetter<TValue>
            ?? throw new InvalidOperationException($"column '{column.Name}' has type {column.Type}; GetGetter<{typeof(TValue).Name}> does not match its raw type {column.Type.RawType.Name}.");
    }

    private static ValueGetter<VBuffer<float>> FloatSlice(Func<(ExplainedBatch Batch, int Row)> current, Func<ExplainedBatch, float[]> array, int length) =>
        (ref VBuffer<float> value) =>
        {
            (ExplainedBatch batch, int row) = current();
            var editor = VBufferEditor.Create(ref value, length);
            array(batch).AsSpan(row * length, length).CopyTo(editor.Values);
            value = editor.Commit();
        };
}
