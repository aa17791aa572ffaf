using Clrp.Cli.Evaluation;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>
/// The pointing game and discriminativeness on hand-made maps: every expected value follows from the pixels set
/// in the test. Box (10,10)–(20,20) covers pixels 10..19; pixel x's centre is x + ½.
/// </summary>
[TestClass]
public sealed class PointingGameTests
{
    private const int Side = 32;
    private static readonly ObjectBox Box = new(3, 10, 10, 20, 20);
    private static readonly ObjectBox Other = new(7, 22, 0, 30, 8);

    [TestMethod]
    public void Tolerance_Is15PixelsAt224ScaledToTheCanvas()
    {
        Assert.AreEqual(15, PointingGame.Tolerance(224), 1e-12);
        Assert.AreEqual(15.0 * 64 / 224, PointingGame.Tolerance(64), 1e-12);
        Assert.AreEqual(4.2857, PointingGame.Tolerance(64), 1e-4);
    }

    [TestMethod]
    public void MaxPoint_FirstMaximumInRowMajorOrder_AsPixelCentre()
    {
        float[] map = Map((5, 7, 2f), (9, 3, 2f), (1, 1, 1f));

        Assert.AreEqual((9.5, 3.5), PointingGame.MaxPoint(map, Side));
    }

    [TestMethod]
    public void MaxPoint_NoPositiveValue_PointsNowhereAndMisses()
    {
        float[] map = Map((4, 4, -1f), (5, 5, float.NaN));

        Assert.IsNull(PointingGame.MaxPoint(map, Side));
        Assert.IsFalse(PointingGame.IsHit(PointingGame.MaxPoint(map, Side), Box, 100));
    }

    [TestMethod]
    [DataRow(23, 15, true, DisplayName = "3.5 px right of the box: hit")]
    [DataRow(24, 15, false, DisplayName = "4.5 px right: miss")]
    [DataRow(6, 15, true, DisplayName = "3.5 px left: hit")]
    [DataRow(5, 15, false, DisplayName = "4.5 px left: miss")]
    [DataRow(15, 6, true, DisplayName = "3.5 px above: hit")]
    [DataRow(15, 24, false, DisplayName = "4.5 px below: miss")]
    [DataRow(22, 22, true, DisplayName = "diagonal √(2.5²+2.5²) = 3.54: hit")]
    [DataRow(23, 22, false, DisplayName = "diagonal √(3.5²+2.5²) = 4.30 > 4.29: miss")]
    public void IsHit_AtTheTolerance64Edge(int x, int y, bool expected)
    {
        float[] map = Map((x, y, 1f));

        bool hit = PointingGame.IsHit(PointingGame.MaxPoint(map, Side), Box, PointingGame.Tolerance(64));

        Assert.AreEqual(expected, hit, $"distance {Box.DistanceTo(x + 0.5, y + 0.5)}");
    }

    [TestMethod]
    public void IsHit_DistanceExactlyTheTolerance_Hits()
    {
        (double, double) point = (23.5, 15.5); // 3.5 px right of x1 = 20

        Assert.IsTrue(PointingGame.IsHit(point, Box, 3.5));
        Assert.IsFalse(PointingGame.IsHit(point, Box, 3.4999));
        Assert.IsTrue(PointingGame.IsHit((19.9, 10.0), Box, 0), "inside with zero tolerance");
    }

    [TestMethod]
    public void IsNearerHit_CountsOnlyHitsNearerTheExplainedObject()
    {
        // Box (10,10)–(20,20), Other (22,0)–(30,8). (21, 9.8): √(1²+0.2²) = 1.02 px from Box, √(1²+1.8²) = 2.06 px from Other.
        Assert.IsTrue(PointingGame.IsNearerHit((21.0, 9.8), Box, Other, 4.3));
        Assert.IsTrue(PointingGame.IsHit((21.0, 9.8), Other, 4.3), "a plain hit on the other object too");
        Assert.IsFalse(PointingGame.IsNearerHit((21.0, 9.8), Other, Box, 4.3));
        Assert.IsFalse(PointingGame.IsNearerHit((25.5, 25.5), Box, Other, 4.3), "no hit at all");
        Assert.IsFalse(PointingGame.IsNearerHit(null, Box, Other, 4.3));
    }

    [TestMethod]
    public void PositiveMass_SumsOnlyPositiveValuesInsideTheBox()
    {
        float[] map = Map((10, 10, 2f), (19, 19, 3f), (20, 15, 100f), (15, 9, 100f), (12, 12, -5f));

        Assert.AreEqual(5, PointingGame.PositiveMass(map, Side, Box), 1e-12);
    }

    [TestMethod]
    public void IsDiscriminative_StrictlyMoreInTheOwnBox_TiesAreNot()
    {
        float[] map = Map((12, 12, 1f), (25, 3, 0.5f));
        double own = PointingGame.PositiveMass(map, Side, Box), other = PointingGame.PositiveMass(map, Side, Other);

        Assert.IsTrue(PointingGame.IsDiscriminative(own, other));
        Assert.IsFalse(PointingGame.IsDiscriminative(other, own));
        Assert.IsFalse(PointingGame.IsDiscriminative(0, 0), "an all-zero map discriminates nothing");
    }

    [TestMethod]
    public void SameObject_BothMaximaOnOneBox_ButNotOnDifferentBoxes()
    {
        var scene = new Scene(0, Box, Other);

        Assert.IsTrue(PointingGame.SameObject((12.5, 12.5), (18.5, 11.5), scene, 0));
        Assert.IsFalse(PointingGame.SameObject((12.5, 12.5), (25.5, 3.5), scene, 0));
        Assert.IsFalse(PointingGame.SameObject(null, (12.5, 12.5), scene, 0));
    }

    /// <summary>A Side×Side map of zeros with the given (x, y, value) pixels.</summary>
    private static float[] Map(params (int X, int Y, float Value)[] pixels)
    {
        var map = new float[Side * Side];
        foreach ((int x, int y, float v) in pixels)
        {
            map[(y * Side) + x] = v;
        }

        return map;
    }
}
