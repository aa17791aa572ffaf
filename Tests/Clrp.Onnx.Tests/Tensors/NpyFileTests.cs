using System.Text;
using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Tests.Tensors;

/// <summary>
/// NpyFile against NumPy as the independent reference: the fixtures in Fixtures/npy were written by
/// Debian's NumPy 1.24 (see make_fixtures.py there), with values exact in float32.
/// </summary>
[TestClass]
public sealed class NpyFileTests
{
    private string _folder = "";

    [TestInitialize]
    public void CreateFolder()
    {
        _folder = Path.Combine(Path.GetTempPath(), "npy-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_folder);
    }

    [TestCleanup]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "npy", name);

    [TestMethod]
    [DataRow("f32_2x3.npy")]
    [DataRow("f32_2x3_v2.npy")]
    [DataRow("f32_2x3_v3.npy")]
    public void Read_Float32TwoByThree_ReturnsNumpyValues(string name)
    {
        Tensor t = NpyFile.Read(Fixture(name));

        CollectionAssert.AreEqual(new[] { 2, 3 }, t.Shape);
        CollectionAssert.AreEqual(new[] { -1f, -0.5f, 0f, 0.5f, 1f, 1.5f }, t.Data);
    }

    [TestMethod]
    public void Read_FourDimensional_ReturnsValuesInCOrder()
    {
        Tensor t = NpyFile.Read(Fixture("f32_1x2x3x4.npy"));

        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4 }, t.Shape);
        float[] expected = [.. Enumerable.Range(0, 24).Select(i => (i / 4f) - 3f)];
        CollectionAssert.AreEqual(expected, t.Data);
    }

    [TestMethod]
    public void Read_OneDimensional_ReturnsVector()
    {
        Tensor t = NpyFile.Read(Fixture("f32_3.npy"));

        CollectionAssert.AreEqual(new[] { 3 }, t.Shape);
        CollectionAssert.AreEqual(new[] { 1f, -2f, 0.25f }, t.Data);
    }

    [TestMethod]
    public void Read_Scalar_ReturnsRankZeroTensorOfOneElement()
    {
        Tensor t = NpyFile.Read(Fixture("f32_scalar.npy"));

        Assert.AreEqual(0, t.Rank);
        CollectionAssert.AreEqual(new[] { 2.5f }, t.Data);
    }

    [TestMethod]
    public void Read_EmptyVector_ReturnsZeroElements()
    {
        Tensor t = NpyFile.Read(Fixture("f32_empty.npy"));

        CollectionAssert.AreEqual(new[] { 0 }, t.Shape);
        Assert.AreEqual(0, t.Length);
    }

    [TestMethod]
    [DataRow("f64_2x3.npy", "float64")]
    [DataRow("f32_bigendian_2x3.npy", "big-endian float32")]
    [DataRow("f32_fortran_2x3.npy", "Fortran")]
    public void Read_UnsupportedLayout_ThrowsNamingFileAndExpectation(string name, string found)
    {
        string path = Fixture(name);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains(found, e.Message);
        Assert.Contains("expected", e.Message);
    }

    [TestMethod]
    public void Read_TruncatedData_ThrowsWithExpectedAndActualByteCounts()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        string path = Write("truncated.npy", bytes[..^3]);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("24", e.Message);
        Assert.Contains("21", e.Message);
    }

    [TestMethod]
    public void Read_TrailingBytes_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        string path = Write("long.npy", [.. bytes, 0, 0, 0, 0]);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains("28", e.Message);
    }

    [TestMethod]
    public void Read_TruncatedHeader_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        string path = Write("cut.npy", bytes[..40]);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains("truncated", e.Message);
    }

    [TestMethod]
    [DataRow(0)]
    [DataRow(5)]
    [DataRow(9)]
    public void Read_TooShortForPrefix_Throws(int length)
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        string path = Write("short.npy", bytes[..length]);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains(path, e.Message);
    }

    [TestMethod]
    public void Read_BadMagic_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        bytes[1] = (byte)'X';
        string path = Write("magic.npy", bytes);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains("magic", e.Message);
    }

    [TestMethod]
    public void Read_UnknownVersion_Throws()
    {
        byte[] bytes = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        bytes[6] = 4;
        string path = Write("version.npy", bytes);

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains("4.0", e.Message);
    }

    [TestMethod]
    [DataRow("{'descr': '<f4', 'fortran_order': False, }", "'shape'")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1, }", "extra")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "tuple")]
    [DataRow("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (6,), }", "True or False")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "non-negative")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), ", "'}'")]
    [DataRow("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), } junk", "padding")]
    [DataRow("{'descr: '<f4', 'fortran_order': False, 'shape': (6,), }", "':'")]
    [DataRow("not a dict at all", "'{'")]
    public void Read_MalformedHeader_ThrowsNamingWhatWasExpected(string header, string expected)
    {
        string path = Write("header.npy", MakeNpy(header, new byte[24]));

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [TestMethod]
    public void Read_HandWrittenHeaderWithDoubleQuotesAndNoPadding_IsAccepted()
    {
        byte[] data = new byte[8];
        BitConverter.TryWriteBytes(data.AsSpan(0), 1.5f);
        BitConverter.TryWriteBytes(data.AsSpan(4), -4f);
        string path = Write("hand.npy", MakeNpy("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}", data));

        Tensor t = NpyFile.Read(path);

        CollectionAssert.AreEqual(new[] { 1.5f, -4f }, t.Data);
    }

    [TestMethod]
    public void Read_MissingFile_ThrowsNamingPath()
    {
        string path = Path.Combine(_folder, "nowhere", "missing.npy");

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [TestMethod]
    [DataRow("f32_2x3.npy")]
    [DataRow("f32_1x2x3x4.npy")]
    [DataRow("f32_3.npy")]
    [DataRow("f32_scalar.npy")]
    [DataRow("f32_empty.npy")]
    public void Write_SameContent_IsByteIdenticalToNumpySave(string name)
    {
        string reference = Fixture(name);
        string path = Path.Combine(_folder, name);

        NpyFile.Write(path, NpyFile.Read(reference));

        CollectionAssert.AreEqual(File.ReadAllBytes(reference), File.ReadAllBytes(path));
    }

    [TestMethod]
    public void Write_ThenRead_RoundTripsEveryBitPattern()
    {
        float[] values = [0f, -0f, 1e-45f, float.MaxValue, float.NegativeInfinity, float.NaN, 3.14159f, -2.5e-8f];
        string path = Path.Combine(_folder, "round.npy");

        NpyFile.Write(path, new Tensor(values, [2, 2, 2]));
        Tensor t = NpyFile.Read(path);

        CollectionAssert.AreEqual(new[] { 2, 2, 2 }, t.Shape);
        CollectionAssert.AreEqual(values.Select(BitConverter.SingleToInt32Bits).ToArray(), t.Data.Select(BitConverter.SingleToInt32Bits).ToArray());
    }

    [TestMethod]
    public void Write_Always_AlignsDataTo64Bytes()
    {
        foreach (int rank in new[] { 0, 1, 5, 17, 40 })
        {
            string path = Path.Combine(_folder, $"rank{rank}.npy");
            NpyFile.Write(path, new Tensor(Enumerable.Repeat(1, rank).ToArray()));

            byte[] bytes = File.ReadAllBytes(path);
            int headerLength = BitConverter.ToUInt16(bytes, 8);
            Assert.AreEqual(0, (10 + headerLength) % 64, $"rank {rank}");
            Assert.AreEqual((byte)'\n', bytes[10 + headerLength - 1]);
        }
    }

    [TestMethod]
    public void Write_HeaderLongerThan64KiB_UsesVersion2AndReadsBack()
    {
        int[] shape = Enumerable.Repeat(1, 25_000).ToArray();
        string path = Path.Combine(_folder, "v2.npy");

        NpyFile.Write(path, new Tensor([7f], shape));
        Tensor t = NpyFile.Read(path);

        Assert.AreEqual(2, File.ReadAllBytes(path)[6]);
        Assert.AreEqual(25_000, t.Rank);
        CollectionAssert.AreEqual(new[] { 7f }, t.Data);
    }

    [TestMethod]
    public void Write_OverExistingFile_ReplacesItAndLeavesNoTemporaryFile()
    {
        string path = Path.Combine(_folder, "out.npy");
        File.WriteAllText(path, "old content that is longer than the new file will be, to catch a missing truncation");

        NpyFile.Write(path, new Tensor([1f, 2f], [2]));

        CollectionAssert.AreEqual(new[] { 1f, 2f }, NpyFile.Read(path).Data);
        CollectionAssert.AreEqual(new[] { path }, Directory.GetFiles(_folder));
    }

    [TestMethod]
    public void Write_IntoMissingFolder_ThrowsNamingPath()
    {
        string path = Path.Combine(_folder, "nowhere", "out.npy");

        var e = Assert.ThrowsExactly<NpyFormatException>(() => NpyFile.Write(path, new Tensor(2)));

        Assert.Contains(path, e.Message);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A version 1.0 file with <paramref name="header"/> as is, padded like NumPy, then <paramref name="data"/>.</summary>
    private static byte[] MakeNpy(string header, byte[] data)
    {
        int padding = 63 - ((10 + header.Length) % 64);
        string text = header + new string(' ', padding) + "\n";
        byte[] prefix = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(text.Length & 0xFF), (byte)(text.Length >> 8)];
        return [.. prefix, .. Encoding.Latin1.GetBytes(text), .. data];
    }
}
