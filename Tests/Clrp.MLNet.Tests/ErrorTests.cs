using Clrp.MLNet.Tests.Support;
using Clrp.Onnx;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests;

/// <summary>Schema errors fail early naming the column; bad row data fails with a ClrpException naming column and row.</summary>
[TestClass]
public sealed class ErrorTests
{
    private static string _tiny = "";

    [ClassInitialize]
    public static void WriteModel(TestContext context) => _tiny = TinyModel.Write();

    [ClassCleanup]
    public static void DeleteModel() => File.Delete(_tiny);

    [TestMethod]
    public void Fit_MissingInputColumn_NamesColumnAndExpectedType()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ExplainClrp(Fashion.Options(o => o.InputColumnName = "pixels")).Fit(data));
        StringAssert.Contains(e.Message, "'pixels'");
        StringAssert.Contains(e.Message, "column not found");
        StringAssert.Contains(e.Message, "Vector<Single, 1, 28, 28>");
    }

    [TestMethod]
    public void Fit_FixedVectorOfWrongSize_NamesExpectedAndActualSize()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([new TinyFixedRow { X = new float[64] }]);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ExplainClrp(Fashion.Options(o => o.InputColumnName = "x")).Fit(data));
        StringAssert.Contains(e.Message, "'x'");
        StringAssert.Contains(e.Message, "784 values");
        StringAssert.Contains(e.Message, "64 values");
    }

    [TestMethod]
    public void GetOutputSchema_NonVectorInput_NamesColumnExpectedAndActual()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([new TinyRow { X = new float[64] }]);
        SchemaShape shape = ShapeOf(ml, data);
        var estimator = ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, InputColumnName = "Target" });
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(shape));
        StringAssert.Contains(e.Message, "'Target'");
        StringAssert.Contains(e.Message, "expected a vector of Single");
    }

    [TestMethod]
    public void GetOutputSchema_ValidInput_AddsTheColumns()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([new TinyRow { X = new float[64] }]);
        SchemaShape output = ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny }).GetOutputSchema(ShapeOf(ml, data));
        CollectionAssert.IsSubsetOf(new[] { "x", "Target", "Relevance", "Heatmap", "ExplainedClass", "Logits" }, output.Select(c => c.Name).ToArray());
    }

    [TestMethod]
    public void Fit_MissingTargetColumn_NamesIt()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([new TinyRow { X = new float[64] }]);
        var e = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Target = ExplainTarget.Column("Label") }).Fit(data));
        StringAssert.Contains(e.Message, "'Label'");
    }

    [TestMethod]
    public void Enumerate_VectorOfWrongLength_ThrowsInvalidInputNamingColumnAndRow()
    {
        var e = Assert.ThrowsExactly<InvalidInputException>(() => ExplainTiny([Row(0), Row(1), new TinyRow { X = new float[10] }]));
        StringAssert.Contains(e.Message, "column 'x' row 2");
        StringAssert.Contains(e.Message, "expected 64 values");
    }

    [TestMethod]
    public void Enumerate_NaNPixel_ThrowsInvalidInputNamingColumnAndRow()
    {
        TinyRow bad = Row(1);
        bad.X[5] = float.NaN;
        var e = Assert.ThrowsExactly<InvalidInputException>(() => ExplainTiny([Row(0), bad]));
        StringAssert.Contains(e.Message, "column 'x' row 1");
        StringAssert.Contains(e.Message, "NaN");
    }

    [TestMethod]
    [DataRow(10f)]
    [DataRow(-1f)]
    [DataRow(2.5f)]
    public void Enumerate_ClassColumnOutOfRange_ThrowsInvalidTarget(float target)
    {
        TinyRow bad = Row(1);
        bad.Target = target;
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => ExplainTiny([Row(0), bad], ExplainTarget.Column("Target")));
        StringAssert.Contains(e.Message, "column 'Target' row 1");
        StringAssert.Contains(e.Message, "[0, 10)");
    }

    [TestMethod]
    public void Enumerate_PredictedLabelKey_ExplainsKeyMinusOne()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([Row(0, target: 3), Row(1, target: 7)]);
        // A key column whose values are the classes 0…9, as ML.NET's PredictedLabel/MapValueToKey make them.
        var keys = ml.Transforms.Conversion.MapValueToKey("Key", "Target", keyData: ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select(i => new KeyValue { Target = i })));
        IDataView keyed = keys.Fit(data).Transform(data);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Target = ExplainTarget.Column("Key") }).Fit(keyed);
        int[] classes = explainer.Transform(keyed).GetColumn<int>("ExplainedClass").ToArray();
        CollectionAssert.AreEqual(new[] { 3, 7 }, classes);
    }

    [TestMethod]
    public void Fit_TopKAboveClassCount_ThrowsInvalidTarget()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([Row(0)]);
        var e = Assert.ThrowsExactly<InvalidTargetException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Target = ExplainTarget.TopK(11) }).Fit(data));
        StringAssert.Contains(e.Message, "10 classes");
    }

    [TestMethod]
    public void Estimator_BadOptions_ThrowInvalidOptions()
    {
        var ml = new MLContext(seed: 0);
        Assert.ThrowsExactly<InvalidOptionsException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions()));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, BatchSize = 0 }));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Mean = [0.5f] }));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Rules = "nope" }));
        Assert.ThrowsExactly<InvalidOptionsException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, HeatmapColumnName = "Relevance" }));
    }

    [TestMethod]
    public void Fit_MissingModelFile_ThrowsModelLoad()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable([Row(0)]);
        var e = Assert.ThrowsExactly<ModelLoadException>(() => ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = "missing.onnx", InputColumnName = "x" }).Fit(data));
        StringAssert.Contains(e.Message, "missing.onnx");
    }

    private static TinyRow Row(int i, float target = 0) => new() { X = TinyModel.Image(i), Target = target };

    private static void ExplainTiny(TinyRow[] rows, ExplainTarget? target = null)
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = _tiny, Low = [-1f], High = [2f], Target = target ?? ExplainTarget.Predicted }).Fit(data);
        _ = explainer.Transform(data).GetColumn<float[]>("Relevance").ToList();
    }

    /// <summary>A SchemaShape with a float vector "x" and a float "Target" (SchemaShape.Create is internal to ML.NET).</summary>
    private static SchemaShape ShapeOf(MLContext ml, IDataView data) =>
        SchemaShapeFactory.Append(new SchemaShape([]), data.Schema.Select(c => (c.Name, c.Type)));

    public sealed class KeyValue
    {
        public float Target { get; set; }
    }
}
