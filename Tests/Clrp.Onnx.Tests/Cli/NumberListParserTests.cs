using Clrp.Cli;

namespace Clrp.Onnx.Tests.Cli;

/// <summary>The CLI's number parsing: invariant culture, negative values, comma lists, one-line errors.</summary>
[TestClass]
public sealed class NumberListParserTests
{
    [TestMethod]
    public void ParseFloats_CommaList_ParsesEachValueInvariantly()
    {
        CollectionAssert.AreEqual(new[] { -2.1179f, 0.456f, 1e-6f }, NumberListParser.ParseFloats("--low", "-2.1179, 0.456,1e-6"));
    }

    [TestMethod]
    [DataRow("1,2,")]
    [DataRow("1;2")]
    [DataRow("NaN")]
    [DataRow("inf")]
    [DataRow("0,5e")]
    public void ParseFloats_Malformed_ThrowsNamingTheOption(string text)
    {
        var e = Assert.ThrowsExactly<InvalidOptionsException>(() => NumberListParser.ParseFloats("--std", text));
        StringAssert.Contains(e.Message, "--std");
    }

    [TestMethod]
    public void ParseInt_BelowMinimum_Throws()
    {
        Assert.ThrowsExactly<InvalidOptionsException>(() => NumberListParser.ParseInt("--top-k", "0", 1));
    }

    [TestMethod]
    public void ParseInts_Size_ParsesTwoValues()
    {
        CollectionAssert.AreEqual(new[] { 224, 112 }, NumberListParser.ParseInts("--size", "224,112", 1));
    }

    [TestMethod]
    public void Report_UnexpectedException_ExitsOneInOneLine()
    {
        using var stderr = new StringWriter();

        int code = CliErrors.Report(stderr, new InvalidOperationException("first\nsecond"));

        Assert.AreEqual(1, code);
        Assert.AreEqual("clrp: error: unexpected InvalidOperationException: first second" + Environment.NewLine, stderr.ToString());
    }
}
