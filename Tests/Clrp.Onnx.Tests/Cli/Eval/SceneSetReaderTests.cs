using Clrp.Cli.Evaluation;
using Clrp.Onnx.Tests.Support;

namespace Clrp.Onnx.Tests.Cli.Eval;

/// <summary>The evaluation-set reader on the committed set and on broken copies.</summary>
[TestClass]
public sealed class SceneSetReaderTests
{
    private string _dir = "";

    [TestInitialize]
    public void CreateFolder() => _dir = TestPaths.TempDir();

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    [TestMethod]
    public void Read_CommittedSet_GivesItsShapeScenesAndNormalisedPixels()
    {
        SceneSet set = SceneSetReader.Read(EvalPaths.Data, limit: 3);

        Assert.AreEqual((1, 64, 64), (set.Channels, set.Height, set.Width));
        Assert.HasCount(3, set.Scenes);
        // scenes.csv row 0: 0,5,5,8,33,36,8,35,35,63,63,…
        Assert.AreEqual(new Scene(0, new ObjectBox(5, 5, 8, 33, 36), new ObjectBox(8, 35, 35, 63, 63)), set.Scenes[0]);
        (byte[] pixels, _) = SceneSetReader.ReadImages(Path.Combine(EvalPaths.Data, "images.u8.npy"));
        var scaling = new PixelScaling([0.1417f], [0.2478f], IsDatasetMean: true);
        float[] x = set.Inputs([set.Scenes[1]], scaling, copies: 2).Data;
        Assert.AreEqual(((pixels[4096 + 100] / 255f) - 0.1417f) / 0.2478f, x[100], 1e-6);
        Assert.AreEqual(x[100], x[4096 + 100], "the copy repeats the scene");
    }

    [TestMethod]
    public void Read_Limit_KeepsTheFirstScenes()
    {
        Assert.HasCount(1000, SceneSetReader.Read(EvalPaths.Data).Scenes);
        Assert.AreEqual(1, SceneSetReader.Read(EvalPaths.Data, limit: 2).Scenes[1].Index);
    }

    [TestMethod]
    [DataRow("0,1,0,0,4,4,2,4,4,8,8,x", "expected 11 comma-separated fields", DisplayName = "extra field")]
    [DataRow("0,1,0,0,4,4,2,4,4,8", "expected 11", DisplayName = "missing field")]
    [DataRow("0,one,0,0,4,4,2,4,4,8,8", "'class_a' is not an integer", DisplayName = "not a number")]
    [DataRow("5,1,0,0,4,4,2,4,4,8,8", "index 5 is outside the 2 images", DisplayName = "index out of range")]
    [DataRow("0,1,0,0,4,9,2,4,4,8,8", "object a needs", DisplayName = "box beyond the canvas")]
    [DataRow("0,1,0,0,4,4,1,4,4,8,8", "both objects have class 1", DisplayName = "same class twice")]
    public void Read_MalformedRow_NamesFileLineAndProblem(string row, string fragment)
    {
        string data = SceneData.Write(Path.Combine(_dir, "d"), 2, 8, SceneData.Header, "1,1,0,0,4,4,2,4,4,8,8", row);

        var e = Assert.ThrowsExactly<InvalidInputException>(() => SceneSetReader.Read(data));

        StringAssert.Contains(e.Message, "scenes.csv' line 3");
        StringAssert.Contains(e.Message, fragment);
    }

    [TestMethod]
    public void Read_WrongHeaderOrDtype_IsRefused()
    {
        string data = SceneData.Write(Path.Combine(_dir, "d"), 1, 8, "idx,a,b", "0,1,0,0,4,4,2,4,4,8,8");
        StringAssert.Contains(Assert.ThrowsExactly<InvalidInputException>(() => SceneSetReader.Read(data)).Message, "must start with the header");

        File.WriteAllBytes(Path.Combine(data, "images.u8.npy"), [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 4, 0, (byte)'{', (byte)'}', (byte)' ', (byte)'\n']);
        StringAssert.Contains(Assert.ThrowsExactly<InvalidInputException>(() => SceneSetReader.Read(data)).Message, "uint8");
    }

    [TestMethod]
    public void Read_MissingFolder_SaysSo()
    {
        StringAssert.Contains(Assert.ThrowsExactly<InvalidInputException>(() => SceneSetReader.Read(Path.Combine(_dir, "nope"))).Message, "does not exist");
    }
}
