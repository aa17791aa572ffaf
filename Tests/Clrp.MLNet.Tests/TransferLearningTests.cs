using System.Globalization;
using Clrp.MLNet.Chain;
using Clrp.MLNet.Tests.Support;
using Clrp.Onnx;
using Clrp.Onnx.Explaining;
using Clrp.Onnx.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Clrp.MLNet.Tests;

/// <summary>
/// The ML.NET transfer-learning workflow explained end to end: ResNet18 features (DnnFeaturizeImage) → NormalizeMinMax →
/// a linear multiclass head trained on Fashion-MNIST items (trouser, sneaker, bag) rendered to 224² RGB. AppendExplain()
/// composes one ONNX graph; its scores must be ML.NET's, and its maps those of <c>clrp explain</c> on the written graph.
/// </summary>
[TestClass]
public sealed class TransferLearningTests
{
    private static readonly int[] Classes = [1, 7, 8];
    private static readonly string Folder = Path.Combine(Path.GetTempPath(), $"clrp-transfer-{Guid.NewGuid():N}");
    private static MLContext _ml = null!;
    private static IDataView _images = null!;
    private static IDataView _two = null!;
    private static List<ITransformer> _featurizer = null!;
    private static IDataView _features = null!;

    [ClassInitialize]
    public static void Train(TestContext context)
    {
        _ml = new MLContext(seed: 1);
        List<(string Path, int Class)> items = FashionItems.Write(Folder, Classes, perClass: 16);
        _images = _ml.Data.LoadFromEnumerable(items.Select(i => new Item { ImagePath = i.Path, Label = i.Class }));
        // Explaining a 224² ResNet18 costs about a second a row here: the tests explain two rows, of two classes.
        _two = _ml.Data.LoadFromEnumerable(items.GroupBy(i => i.Class).Take(2).Select(g => new Item { ImagePath = g.First().Path, Label = g.First().Class }));
        var featurize = _ml.Transforms.LoadImages("image", "", nameof(Item.ImagePath))
            .Append(_ml.Transforms.ResizeImages("image", 224, 224))
            .Append(_ml.Transforms.ExtractPixels("pixels", "image"))
            .Append(_ml.Transforms.DnnFeaturizeImage("features", m => m.ModelSelector.ResNet18(_ml, m.OutputColumn, m.InputColumn), "pixels"))
            .Append(_ml.Transforms.NormalizeMinMax("features"))
            .Append(_ml.Transforms.Conversion.MapValueToKey("Label"));
        ITransformer fitted = featurize.Fit(_images);
        _featurizer = ExplainingChainEstimator<ITransformer>.Flatten(fitted).ToList();
        // Featurize once; every head below trains on the cached features.
        _features = _ml.Data.Cache(fitted.Transform(_images));
        _ = _features.GetColumn<float[]>("features").Count();
    }

    [ClassCleanup]
    public static void Clean()
    {
        _featurizer.OfType<IDisposable>().ToList().ForEach(d => d.Dispose());
        Directory.Delete(Folder, recursive: true);
    }

    [TestMethod]
    public void MaximumEntropyHead_ComposedGraph_ReproducesMlNetScoresAndExplainsTheLabels()
    {
        ITransformer head = _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "features").Fit(_features);
        using ClrpTransformer explainer = Explainer(head, o => o.Target = ExplainTarget.Column("Label"), out IDataView output);
        VBuffer<float> keyValues = default;
        output.Schema["Label"].GetKeyValues(ref keyValues);
        string[] labels = keyValues.DenseValues().Select(v => v.ToString(CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEquivalent(new[] { "1", "7", "8" }, labels);
        CollectionAssert.AreEqual(labels, explainer.ClassNames!.ToArray(), "the head's classes are the label values, in key order");
        Assert.AreEqual(3, explainer.ClassCount);

        float[][] scores = output.GetColumn<float[]>("Score").ToArray();
        float[][] logits = output.GetColumn<float[]>("Logits").ToArray();
        uint[] predicted = output.GetColumn<uint>("PredictedLabel").ToArray();
        for (int row = 0; row < scores.Length; row++)
        {
            float[] softmax = Softmax(logits[row]);
            Assertions.AllClose(scores[row], softmax, 1e-4, $"row {row}: softmax of the composed logits vs ML.NET's Score");
            Assert.AreEqual((int)predicted[row] - 1, Array.IndexOf(logits[row], logits[row].Max()), $"row {row}: arg-max = PredictedLabel");
        }

        // The label is explained: each row's class is the one whose name is the row's label value.
        int[] explained = output.GetColumn<int>("ExplainedClass").ToArray();
        float[] rowLabels = _two.GetColumn<float>("Label").ToArray();
        for (int row = 0; row < explained.Length; row++)
        {
            Assert.AreEqual(rowLabels[row].ToString(CultureInfo.InvariantCulture), labels[explained[row]], $"row {row}: the explained class is the row's label");
        }

        float accuracy = _ml.MulticlassClassification.Evaluate(head.Transform(_features)).MacroAccuracy is var a ? (float)a : 0;
        Assert.IsGreaterThan(0.9f, accuracy, "the head learned the three classes");
    }

    [TestMethod]
    [DataRow(ExplainMethod.Lrp, "lrp")]
    [DataRow(ExplainMethod.Clrp1, "clrp1")]
    [DataRow(ExplainMethod.Clrp2, "clrp2")]
    [DataRow(ExplainMethod.Sglrp, "sglrp")]
    public void ComposedGraph_MapsEqualClrpExplainOnTheWrittenGraph(ExplainMethod method, string cliMethod)
    {
        ITransformer head = _ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy("Label", "features").Fit(_features);
        using ClrpTransformer explainer = Explainer(head, o => o.Method = method, out IDataView output, _ml.Data.TakeRows(_two, 1));
        string dir = Path.Combine(Folder, cliMethod);
        Directory.CreateDirectory(dir);
        string graph = Path.Combine(dir, "composed.onnx");
        explainer.SaveOnnxModel(graph);
        float[] pixels = output.GetColumn<float[]>("pixels").First();
        float[] relevance = output.GetColumn<float[]>("Relevance").First();
        int target = output.GetColumn<int>("ExplainedClass").First();
        NpyFile.Write(Path.Combine(dir, "x.npy"), new Tensor(pixels, [1, 3, 224, 224]));

        string Join(float[] v) => string.Join(',', v.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int code = Clrp.Cli.CliApp.Run(["explain", "--model", graph, "--input", Path.Combine(dir, "x.npy"), "--method", cliMethod,
            "--target", target.ToString(CultureInfo.InvariantCulture), "--low", Join(explainer.Options.Low!), "--high", Join(explainer.Options.High!),
            "--out", Path.Combine(dir, "cli.npy")], stdout, stderr);
        Assert.AreEqual(0, code, stderr.ToString());
        float[] cli = NpyFile.Read(Path.Combine(dir, "cli.npy")).Data;

        double diff = 0, norm = 0;
        for (int i = 0; i < cli.Length; i++)
        {
            diff += (cli[i] - relevance[i]) * (double)(cli[i] - relevance[i]);
            norm += cli[i] * (double)cli[i];
        }

        double relativeL2 = Math.Sqrt(diff / Math.Max(norm, 1e-30));
        Console.WriteLine($"{cliMethod}: relative L2 error AppendExplain() vs clrp explain on the written graph = {relativeL2:E2} (target {target}, {cli.Length} values, Σ|R| {cli.Sum(Math.Abs):G4})");
        Assert.IsGreaterThan(0, norm, "a non-trivial map");
        Assert.IsLessThanOrEqualTo(1e-5, relativeL2, $"{cliMethod}: AppendExplain() vs clrp explain");
    }

    [TestMethod]
    public void OneVersusAllOfAveragedPerceptron_ComposedArgMaxIsThePrediction()
    {
        var trainer = _ml.MulticlassClassification.Trainers.OneVersusAll(_ml.BinaryClassification.Trainers.AveragedPerceptron(featureColumnName: "features"), "Label");
        ITransformer head = trainer.Fit(_features);
        using ClrpTransformer explainer = Explainer(head, o => o.Method = ExplainMethod.Lrp, out IDataView output);
        float[][] logits = output.GetColumn<float[]>("Logits").ToArray();
        uint[] predicted = output.GetColumn<uint>("PredictedLabel").ToArray();
        for (int row = 0; row < logits.Length; row++)
        {
            Assert.AreEqual((int)predicted[row] - 1, Array.IndexOf(logits[row], logits[row].Max()), $"row {row}: arg-max of the composed logits = PredictedLabel");
        }
    }

    [TestMethod]
    public void TreeEnsembleHead_IsRefusedWithTheReason()
    {
        var trainer = _ml.MulticlassClassification.Trainers.OneVersusAll(_ml.BinaryClassification.Trainers.FastTree(featureColumnName: "features", numberOfTrees: 2, minimumExampleCountPerLeaf: 2), "Label");
        ITransformer head = trainer.Fit(_features);
        var e = Assert.ThrowsExactly<InvalidOptionsException>(() => Explainer(head, null, out _));
        StringAssert.Contains(e.Message, "not a linear model");
        StringAssert.Contains(e.Message, "FastTree");
    }

    private static ClrpTransformer Explainer(ITransformer head, Action<ClrpExplainOptions>? configure, out IDataView output, IDataView? data = null)
    {
        var chain = new TransformerChain<ITransformer>([.. _featurizer, head]);
        TransformerChain<ITransformer> explained = new Fitted(chain).AppendExplain(configure).Fit(_two);
        output = explained.Transform(data ?? _two);
        return ExplainingChainEstimator<ITransformer>.Flatten(explained).OfType<ClrpTransformer>().Single();
    }

    private static float[] Softmax(float[] z)
    {
        double max = z.Max();
        double[] e = z.Select(v => Math.Exp(v - max)).ToArray();
        return e.Select(v => (float)(v / e.Sum())).ToArray();
    }

    /// <summary>An estimator that "fits" to an already fitted chain, so that heads share one featurization.</summary>
    private sealed class Fitted(TransformerChain<ITransformer> chain) : IEstimator<TransformerChain<ITransformer>>
    {
        public TransformerChain<ITransformer> Fit(IDataView input) => chain;

        public SchemaShape GetOutputSchema(SchemaShape inputSchema) => throw new NotSupportedException();
    }

    public sealed class Item
    {
        public string ImagePath { get; set; } = "";

        public float Label { get; set; }
    }
}
