using Clrp.MLNet.Tests.Support;
using Clrp.Onnx.Composites;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Rules;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests;

/// <summary>The ML.NET columns hold what the core API computes for the same inputs, to 1e-6.</summary>
[TestClass]
public sealed class CoreEquivalenceTests
{
    private const double Tolerance = 1e-6;

    [TestMethod]
    [DataRow(ExplainMethod.Clrp1)]
    [DataRow(ExplainMethod.Clrp2)]
    [DataRow(ExplainMethod.Lrp)]
    [DataRow(ExplainMethod.Sglrp)]
    public void Transform_PredictedClass_EqualsCoreExplainPerImage(ExplainMethod method)
    {
        var ml = new MLContext(seed: 0);
        List<FashionRow> rows = Fashion.Rows();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(Fashion.Options(o => o.Method = method)).Fit(data);
        var explained = ml.Data.CreateEnumerable<FashionExplained>(explainer.Transform(data), reuseRowObject: false).ToList();

        using ClrpExplainer core = LoadCore(method);
        Assert.AreEqual(rows.Count, explained.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Explanation e = core.Explain(rows[i].Input, [1, 1, 28, 28], Target.Predicted);
            Assert.AreEqual(rows[i].Name, explained[i].Name, "passed-through column");
            Assert.AreEqual(e.TargetClass, explained[i].ExplainedClass, rows[i].Name);
            Assertions.AllClose(e.Relevance.Data, explained[i].Relevance, Tolerance, $"{rows[i].Name} relevance");
            Assertions.AllClose(e.HeatmapOf(0), explained[i].Heatmap, Tolerance, $"{rows[i].Name} heatmap");
            Assertions.AllClose(e.Logits.Data, explained[i].Logits, Tolerance, $"{rows[i].Name} logits");
        }
    }

    [TestMethod]
    public void Transform_ClassFromLabelColumn_ExplainsThatClass()
    {
        var ml = new MLContext(seed: 0);
        List<FashionRow> rows = Fashion.Rows();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(Fashion.Options(o => o.Target = ExplainTarget.Column(nameof(FashionRow.Label)))).Fit(data);
        var explained = ml.Data.CreateEnumerable<FashionExplained>(explainer.Transform(data), reuseRowObject: false).ToList();

        using ClrpExplainer core = LoadCore(ExplainMethod.Clrp1);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.AreEqual(rows[i].Label, explained[i].ExplainedClass);
            Explanation e = core.Explain(rows[i].Input, [1, 1, 28, 28], rows[i].Label);
            Assertions.AllClose(e.Relevance.Data, explained[i].Relevance, Tolerance, $"{rows[i].Name} relevance for class {rows[i].Label}");
        }
    }

    [TestMethod]
    public void Transform_TopK_HasLeadingAxisAndEqualsCore()
    {
        var ml = new MLContext(seed: 0);
        List<FashionRow> rows = Fashion.Rows();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(Fashion.Options(o => o.Target = ExplainTarget.TopK(3))).Fit(data);
        IDataView output = explainer.Transform(data);
        var relevanceType = (VectorDataViewType)output.Schema["Relevance"].Type;
        CollectionAssert.AreEqual(new[] { 3, 1, 28, 28 }, relevanceType.Dimensions.ToArray());
        CollectionAssert.AreEqual(new[] { 3, 28, 28 }, ((VectorDataViewType)output.Schema["Heatmap"].Type).Dimensions.ToArray());

        float[][] relevance = output.GetColumn<float[]>("Relevance").ToArray();
        int[][] classes = output.GetColumn<int[]>("ExplainedClass").ToArray();
        using ClrpExplainer core = LoadCore(ExplainMethod.Clrp1);
        for (int i = 0; i < rows.Count; i++)
        {
            Explanation e = core.Explain(rows[i].Input, [1, 1, 28, 28], Target.TopK(3));
            CollectionAssert.AreEqual(e.TargetClasses.ToArray(), classes[i]);
            Assertions.AllClose(e.Relevance.Data, relevance[i], Tolerance, $"{rows[i].Name} top-3 relevance");
        }
    }

    [TestMethod]
    public void PredictionEngine_OneRow_EqualsTransform()
    {
        var ml = new MLContext(seed: 0);
        List<FashionRow> rows = Fashion.Rows();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(Fashion.Options()).Fit(data);
        var batched = ml.Data.CreateEnumerable<FashionExplained>(explainer.Transform(data), reuseRowObject: false).ToList();

        var engine = ml.Model.CreatePredictionEngine<FashionRow, FashionExplained>(explainer);
        for (int i = 0; i < rows.Count; i++)
        {
            FashionExplained one = engine.Predict(rows[i]);
            Assert.AreEqual(batched[i].ExplainedClass, one.ExplainedClass);
            Assertions.AllClose(batched[i].Relevance, one.Relevance, Tolerance, $"{rows[i].Name} engine vs transform");
        }
    }

    [TestMethod]
    public void Transform_BoundsFromData_ExplainsEachRowAloneLikeTheCore()
    {
        // Without Mean/Std the z^B bounds come from the data; each row must then use its own range, not its batch's.
        var ml = new MLContext(seed: 0);
        List<FashionRow> rows = Fashion.Rows();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        using ClrpTransformer explainer = ml.Transforms.ExplainClrp(new ClrpExplainOptions { ModelPath = Fashion.Model }).Fit(data);
        var explained = ml.Data.CreateEnumerable<FashionExplained>(explainer.Transform(data), reuseRowObject: false).ToList();

        using ClrpExplainer core = ClrpExplainer.Load(Fashion.Model);
        for (int i = 0; i < rows.Count; i++)
        {
            Explanation e = core.Explain(rows[i].Input, [1, 1, 28, 28]);
            Assertions.AllClose(e.Relevance.Data, explained[i].Relevance, Tolerance, rows[i].Name);
        }
    }

    private static ClrpExplainer LoadCore(ExplainMethod method)
    {
        BoxBounds bounds = BoxBounds.FromMeanStd(Fashion.Mean, Fashion.Std);
        return ClrpExplainer.Load(Fashion.Model, new ExplainerOptions { Method = method, Rules = Composites.Paper(bounds), Bounds = bounds });
    }
}
