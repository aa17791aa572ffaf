using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet;

/// <summary>
/// Builds the <see cref="SchemaShape"/> that <see cref="ClrpEstimator.GetOutputSchema"/> must return.
/// Workaround, isolated here: ML.NET 5.0.1 keeps <c>SchemaShape.Column</c>'s constructor and
/// <c>SchemaShape.Create(DataViewSchema)</c> internal, so an outside estimator cannot make a column shape.
/// A <c>CustomMapping</c> estimator is public and turns an output <see cref="SchemaDefinition"/> into column
/// shapes: we declare our added columns on a placeholder class (renamed and typed at run time), read
/// <c>GetOutputSchema</c>, and never run the mapping.
/// </summary>
internal static class SchemaShapeFactory
{
    private static readonly MLContext Context = new(seed: 0);

    /// <summary><paramref name="input"/> with <paramref name="added"/> appended (replacing columns of the same name).</summary>
    /// <param name="input">The estimator's input shape.</param>
    /// <param name="added">Float vectors, int scalars or int vectors (the kinds the explainer adds), or one float scalar.</param>
    public static SchemaShape Append(SchemaShape input, IEnumerable<(string Name, DataViewType Type)> added)
    {
        SchemaDefinition definition = SchemaDefinition.Create(typeof(Placeholder), SchemaDefinition.Direction.Write);
        var free = new Queue<string>(definition.Select(c => c.MemberName));
        var used = new List<SchemaDefinition.Column>();
        foreach ((string name, DataViewType type) in added)
        {
            // Each placeholder member takes any float/int vector or scalar type we give it; pick one of the right raw type.
            string member = type switch
            {
                VectorDataViewType { ItemType: var item } when item == NumberDataViewType.Single => Next(free, "Floats"),
                VectorDataViewType => Next(free, "IntVector"),
                NumberDataViewType number when number == NumberDataViewType.Single => Next(free, "FloatScalar"),
                _ => Next(free, "IntScalar"),
            };
            SchemaDefinition.Column column = definition[member];
            column.ColumnName = name;
            column.ColumnType = type;
            used.Add(column);
        }

        definition.RemoveAll(c => !used.Contains(c));
        var probe = Context.Transforms.CustomMapping<NoInput, Placeholder>((_, _) => { }, contractName: null, outputSchemaDefinition: definition);
        return probe.GetOutputSchema(input);
    }

    private static string Next(Queue<string> free, string prefix)
    {
        string name = free.First(m => m.StartsWith(prefix, StringComparison.Ordinal));
        var rest = free.Where(m => m != name).ToList();
        free.Clear();
        rest.ForEach(free.Enqueue);
        return name;
    }

    /// <summary>No input columns: the probe reads nothing.</summary>
    private sealed class NoInput
    {
    }

    /// <summary>Members the added columns are mapped onto (names and types are replaced at run time).</summary>
    private sealed class Placeholder
    {
        public float[] Floats1 = [];
        public float[] Floats2 = [];
        public float[] Floats3 = [];
        public float[] Floats4 = [];
        public int[] IntVector1 = [];
        public int IntScalar1 = default;
        public float FloatScalar1 = default;
    }
}
