using Clrp.Cli.Evaluation;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>The ablation's pieces on hand-made data: removal counts, orders, seeded randomness, removal and AOPC.</summary>
[TestClass]
public sealed class AblationTests
{
    [TestMethod]
    public void RemovalCounts_OnePercentOf4096PerStep_Rounded()
    {
        int[] counts = Ablation.RemovalCounts(4096, 20);

        Assert.HasCount(21, counts);
        Assert.AreEqual(0, counts[0]);
        Assert.AreEqual(41, counts[1]);   // 40.96
        Assert.AreEqual(205, counts[5]);  // 204.8
        Assert.AreEqual(819, counts[20]); // 819.2
    }

    [TestMethod]
    public void RelevanceOrder_MostRelevantFirst_TiesByKeyAndNaNLast()
    {
        float[] map = [0.5f, 2f, 0f, float.NaN, 0f, 2f];
        double[] keys = [0, 0.9, 0.3, 0, 0.1, 0.2];

        int[] order = Ablation.RelevanceOrder(map, keys);

        CollectionAssert.AreEqual(new[] { 5, 1, 0, 4, 2, 3 }, order);
    }

    [TestMethod]
    public void RandomKeys_SameSeedSameKeys_OtherSeedOrSceneOtherKeys()
    {
        double[] first = Ablation.RandomKeys(100, seed: 7, scene: 3, objectIndex: 1);

        CollectionAssert.AreEqual(first, Ablation.RandomKeys(100, 7, 3, 1));
        CollectionAssert.AreNotEqual(first, Ablation.RandomKeys(100, 8, 3, 1));
        CollectionAssert.AreNotEqual(first, Ablation.RandomKeys(100, 7, 4, 1));
        CollectionAssert.AreNotEqual(first, Ablation.RandomKeys(100, 7, 3, 0));
    }

    [TestMethod]
    public void RandomOrder_IsADeterministicPermutation()
    {
        int[] order = Ablation.RandomOrder(Ablation.RandomKeys(4096, 1, 0, 0));

        CollectionAssert.AreEquivalent(Enumerable.Range(0, 4096).ToArray(), order);
        CollectionAssert.AreEqual(order, Ablation.RandomOrder(Ablation.RandomKeys(4096, 1, 0, 0)));
        CollectionAssert.AreNotEqual(Enumerable.Range(0, 4096).ToArray(), order, "a shuffle, not the identity");
    }

    [TestMethod]
    public void Remove_SetsTheFirstPixelsOfTheOrderInEveryChannel()
    {
        // Two channels of a 2×2 image.
        float[] image = [1, 2, 3, 4, 5, 6, 7, 8];

        Ablation.Remove(image, plane: 4, order: [3, 0, 1], count: 2, fill: [-1f, -2f]);

        CollectionAssert.AreEqual(new float[] { -1, 2, 3, -1, -2, 6, 7, -2 }, image);
    }

    [TestMethod]
    public void FillValues_DatasetMeanGiven_IsZero_OtherwiseTheImagesOwnMeanNormalised()
    {
        string dir = TestPaths.TempDir();
        try
        {
            // All pixels 0: with --low -1 --high 1 their mean maps to −1.
            SceneSet set = SceneSetReader.Read(SceneData.Write(dir, 1, 8, SceneData.Header, "0,1,0,0,4,4,2,4,4,8,8"));

            CollectionAssert.AreEqual(new[] { 0f }, AblationRunner.FillValues(new PixelScaling([0.2f], [0.5f], IsDatasetMean: true), set));
            CollectionAssert.AreEqual(new[] { -1f }, AblationRunner.FillValues(PixelScaling.FromBounds([-1f], [1f]), set));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [TestMethod]
    public void Aopc_IsTheMeanDropOverAllSteps_IncludingStepZero()
    {
        Assert.AreEqual(1.5, Ablation.Aopc([0, 1, 2, 3]), 1e-12);
        // drop_k = k for k = 0..20: (0 + … + 20) / 21 = 10.
        Assert.AreEqual(10, Ablation.Aopc([.. Enumerable.Range(0, 21).Select(k => (double)k)]), 1e-12);
        Assert.AreEqual(0, Ablation.Aopc([0]), 0);
    }
}
