using Clrp.MLNet.Tests.Support;
using Microsoft.ML;

namespace Clrp.MLNet.Tests;

/// <summary>
/// What a disposed PredictionEngine leaves behind (issue 12, item 4). ML.NET's engine disposes the transformers of the
/// model it was made from; ML.NET's own OnnxTransformer is then unusable (enumerating its output throws, a
/// NullReferenceException inside ML.NET's InvalidOperationException). ClrpTransformer does the same, but says why
/// (<see cref="ObjectDisposedException"/>) and never reaches its released ONNX Runtime session.
/// </summary>
[TestClass]
public sealed class DisposalTests
{
    [TestMethod]
    public void OnnxTransformer_AfterItsPredictionEngineIsDisposed_CannotTransform()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        var model = ml.Transforms.ApplyOnnxModel(Fashion.Model).Fit(data);
        using (var engine = ml.Model.CreatePredictionEngine<FashionRow, Probabilities>(model))
        {
            Assert.HasCount(10, engine.Predict(Fashion.Rows()[0]).Values);
        }

        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Data.CreateEnumerable<Probabilities>(model.Transform(data), reuseRowObject: false).ToList());
    }

    [TestMethod]
    public void ClrpTransformer_AfterItsPredictionEngineIsDisposed_ThrowsObjectDisposed()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        var model = ml.Transforms.CopyColumns("copy", "input").AppendExplain(ml, Fashion.Options()).Fit(data);
        using (var engine = ml.Model.CreatePredictionEngine<FashionRow, FashionExplained>(model))
        {
            Assert.AreEqual(784, engine.Predict(Fashion.Rows()[0]).Relevance.Length);
        }

        var e = Assert.ThrowsExactly<ObjectDisposedException>(() => ml.Data.CreateEnumerable<FashionExplained>(model.Transform(data), reuseRowObject: false).ToList());
        StringAssert.Contains(e.ObjectName, nameof(ClrpTransformer));
    }

    [TestMethod]
    public void ClrpTransformer_EveryMemberAfterDispose_ThrowsObjectDisposed()
    {
        var ml = new MLContext(seed: 0);
        IDataView data = ml.Data.LoadFromEnumerable(Fashion.Rows());
        ClrpTransformer explainer = new ClrpEstimator(Fashion.Options(), ml).Fit(data);
        IDataView before = explainer.Transform(data);
        explainer.Dispose();
        explainer.Dispose();

        var members = new (string Name, Action Call)[]
        {
            ("Transform", () => explainer.Transform(data)),
            ("GetOutputSchema", () => explainer.GetOutputSchema(data.Schema)),
            ("GetRowToRowMapper", () => explainer.GetRowToRowMapper(data.Schema)),
            ("Save", () => explainer.Save(new MemoryStream())),
            ("Options", () => _ = explainer.Options),
            ("InputDimensions", () => _ = explainer.InputDimensions),
            ("ClassCount", () => _ = explainer.ClassCount),
            ("ExecutionProvider", () => _ = explainer.ExecutionProvider),
        };
        foreach ((string name, Action call) in members)
        {
            Assert.ThrowsExactly<ObjectDisposedException>(call, name);
        }

        // A view made before the disposal reaches the explainer only when read: it is refused there.
        Exception late = Assert.Throws<Exception>(() => ml.Data.CreateEnumerable<FashionExplained>(before, reuseRowObject: false).ToList());
        Assert.IsInstanceOfType<ObjectDisposedException>(late is ObjectDisposedException ? late : late.GetBaseException(), late.ToString());
    }

    public sealed class Probabilities
    {
        [Microsoft.ML.Data.VectorType(10)]
        [Microsoft.ML.Data.ColumnName("probabilities")]
        public float[] Values { get; set; } = [];
    }
}
