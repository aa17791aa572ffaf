using Clrp.MLNet.Tests.Support;
using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests;

/// <summary>
/// Key-typed target columns are explained as the class their key <em>value</em> names, whatever order ML.NET gave the
/// keys; keys that name no class of the model are refused with a message that says how to fix it.
/// </summary>
[TestClass]
public sealed class KeyColumnTests
{
    private static string _tiny = "";

    [ClassInitialize]
    public static void WriteModel(TestContext context) => _tiny = TinyModel.Write();

    [ClassCleanup]
    public static void DeleteModel() => File.Delete(_tiny);

    [TestMethod]
    public void MapValueToKey_DefaultOrder_ExplainsTheLabelValueNotTheKeyPosition()
    {
        // Occurrence order: labels 9, 2, 1, 6 become keys 1, 2, 3, 4; key − 1 would explain classes 0, 1, 2, 3.
        var ml = new MLContext(seed: 0);
        float[] labels = [9, 2, 1, 6, 2];
        IDataView data = ml.Data.LoadFromEnumerable(labels.Select((l, i) => new TinyRow { X = TinyModel.Image(i), Target = l }));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Target").Fit(data).Transform(data);
        Assert.AreEqual(1u, keyed.GetColumn<uint>("Key").First(), "the first label (9) got key 1: the test exercises occurrence order");

        float[][] byKey = Explain(ml, keyed, "Key", out int[] keyClasses);
        float[][] byNumber = Explain(ml, keyed, "Target", out int[] numberClasses);
        CollectionAssert.AreEqual(new[] { 9, 2, 1, 6, 2 }, keyClasses);
        CollectionAssert.AreEqual(numberClasses, keyClasses);
        for (int i = 0; i < labels.Length; i++)
        {
            CollectionAssert.AreEqual(byNumber[i], byKey[i], $"row {i}: the key column explains the same class as the number column");
        }
    }

    [TestMethod]
    public void TextKeysOfIntegers_AreParsedAsClassIndices()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { "7", "3", "7" }.Select((l, i) => new TextRow { X = TinyModel.Image(i), Name = l }));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Name").Fit(data).Transform(data);
        _ = Explain(ml, keyed, "Key", out int[] classes);
        CollectionAssert.AreEqual(new[] { 7, 3, 7 }, classes);
    }

    [TestMethod]
    public void TextKeysOfNames_WithClassNames_MapByName()
    {
        var ml = new MLContext(seed: 0);
        string[] names = Enumerable.Range(0, TinyModel.Classes).Select(c => $"class-{c}").ToArray();
        IDataView data = ml.Data.LoadFromEnumerable(new[] { "class-8", "class-0", "class-5" }.Select((l, i) => new TextRow { X = TinyModel.Image(i), Name = l }));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Name").Fit(data).Transform(data);
        _ = Explain(ml, keyed, "Key", out int[] classes, names);
        CollectionAssert.AreEqual(new[] { 8, 0, 5 }, classes);
    }

    [TestMethod]
    public void TextKeysOfNames_WithoutClassNames_AreRefusedWithTheFix()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { "cat", "dog" }.Select((l, i) => new TextRow { X = TinyModel.Image(i), Name = l }));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Name").Fit(data).Transform(data);
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => ml.Transforms.ExplainClrp(Options("Key")).Fit(keyed));
        StringAssert.Contains(e.Message, "column 'Key'");
        StringAssert.Contains(e.Message, "'cat', 'dog'");
        StringAssert.Contains(e.Message, "ClassNames");
        StringAssert.Contains(e.Message, "MapValueToKey over 0…K−1");
    }

    [TestMethod]
    public void NumericKeysOutsideTheModelsClasses_AreRefusedAtFit()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(new float[] { 3, 12 }.Select((l, i) => new TinyRow { X = TinyModel.Image(i), Target = l }));
        IDataView keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Target").Fit(data).Transform(data);
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => ml.Transforms.ExplainClrp(Options("Key")).Fit(keyed));
        StringAssert.Contains(e.Message, "'12'");
        StringAssert.Contains(e.Message, "[0, 10)");
    }

    private static ClrpExplainOptions Options(string target, string[]? names = null) =>
        new() { ModelPath = _tiny, Low = [-1f], High = [2f], Target = ExplainTarget.Column(target), ClassNames = names };

    private static float[][] Explain(MLContext ml, IDataView data, string target, out int[] classes, string[]? names = null)
    {
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(Options(target, names)).Fit(data);
        IDataView explained = explainer.Transform(data);
        classes = explained.GetColumn<int>("ExplainedClass").ToArray();
        return explained.GetColumn<float[]>("Relevance").ToArray();
    }

    public sealed class TextRow
    {
        [ColumnName("x")]
        public float[] X { get; set; } = [];

        public string Name { get; set; } = "";
    }
}
