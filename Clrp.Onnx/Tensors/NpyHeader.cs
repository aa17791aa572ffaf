using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Clrp.Onnx.Tensors;

/// <summary>
/// The Python-dict header of a NumPy .npy file, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>:
/// parsed from what any NumPy version writes, and formatted byte for byte as NumPy 1.24 formats it.
/// </summary>
/// <param name="Descr">The dtype string, e.g. <c>&lt;f4</c> (little-endian float32).</param>
/// <param name="FortranOrder">True when the data is stored column-major.</param>
/// <param name="Shape">The dimensions; empty for a scalar.</param>
internal sealed record NpyHeader(string Descr, bool FortranOrder, int[] Shape)
{
    /// <summary>NumPy pads the header so that the data starts at a multiple of this many bytes.</summary>
    private const int ArrayAlign = 64;

    /// <summary>NumPy leaves room for the growth axis to reach this many digits (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS).</summary>
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>Length of <see cref="Magic"/>.</summary>
    public const int MagicLength = 6;

    /// <summary>The first bytes of every .npy file: 0x93 followed by ASCII "NUMPY".</summary>
    public static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>
    /// Builds the complete prefix NumPy writes for a float32 C-order array of <paramref name="shape"/>:
    /// magic, version, header length, header padded with spaces to end in <c>\n</c> at a multiple of 64 bytes.
    /// Version 1.0 (2-byte length) unless the header needs more than 65535 bytes, then 2.0, as <c>np.save</c> does.
    /// </summary>
    public static byte[] EncodeFloat32(IReadOnlyList<int> shape)
    {
        string text = "{'descr': '<f4', 'fortran_order': False, 'shape': " + FormatTuple(shape) + ", }";
        if (shape.Count > 0)
        {
            // NumPy reserves spaces so that the first axis can grow in place (np.lib.format._write_array_header).
            int digits = shape[0].ToString(CultureInfo.InvariantCulture).Length;
            text += new string(' ', Math.Max(0, GrowthAxisMaxDigits - digits));
        }

        byte[] header = Encoding.Latin1.GetBytes(text);
        int lengthSize = 2;
        int padding = PaddingFor(header.Length, lengthSize);
        if (header.Length + padding + 1 > ushort.MaxValue)
        {
            // Version 2.0 exists only for headers too long for a 2-byte length.
            lengthSize = 4;
            padding = PaddingFor(header.Length, lengthSize);
        }

        int headerLength = header.Length + padding + 1;
        var bytes = new byte[MagicLength + 2 + lengthSize + headerLength];
        Magic.CopyTo(bytes);
        bytes[MagicLength] = (byte)(lengthSize == 2 ? 1 : 2);
        bytes[MagicLength + 1] = 0;
        if (lengthSize == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(MagicLength + 2), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(MagicLength + 2), (uint)headerLength);
        }

        int start = MagicLength + 2 + lengthSize;
        header.CopyTo(bytes, start);
        bytes.AsSpan(start + header.Length, padding).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    /// <summary>
    /// Parses the header dict. It must hold exactly the keys <c>descr</c>, <c>fortran_order</c> and <c>shape</c>,
    /// as NumPy requires; <paramref name="path"/> only names the file in error messages.
    /// </summary>
    /// <exception cref="NpyFormatException">The text is not such a dict.</exception>
    public static NpyHeader Parse(string text, string path)
    {
        var parser = new Parser(text, path);
        return parser.ParseDict();
    }

    /// <summary>
    /// Spaces after the header text so that prefix + text + '\n' ends on a multiple of 64 bytes;
    /// like NumPy, a header that is already aligned still gets a full 64 bytes.
    /// </summary>
    private static int PaddingFor(int textLength, int lengthSize) =>
        ArrayAlign - ((MagicLength + 2 + lengthSize + textLength + 1) % ArrayAlign);

    /// <summary>Python's repr of a tuple of ints: <c>()</c>, <c>(3,)</c>, <c>(2, 3)</c>.</summary>
    public static string FormatTuple(IReadOnlyList<int> shape) => shape.Count switch
    {
        0 => "()",
        1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
        _ => "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")",
    };

    /// <summary>
    /// A recursive-descent reader for the tiny subset of Python literals a .npy header uses:
    /// a dict with string keys whose values are strings, True/False, or tuples of non-negative ints.
    /// </summary>
    private sealed class Parser(string text, string path)
    {
        private int _position;

        public NpyHeader ParseDict()
        {
            string? descr = null;
            bool? fortranOrder = null;
            int[]? shape = null;

            Expect('{');
            while (!TryConsume('}'))
            {
                if (Peek() is not ('\'' or '"'))
                {
                    throw Error("a quoted key or '}'");
                }

                string key = ParseString();
                Expect(':');
                switch (key)
                {
                    case "descr" when descr is null:
                        descr = Peek() is '\'' or '"' ? ParseString() : throw Error("'descr' to be a dtype string such as '<f4' (structured dtypes are not supported)");
                        break;
                    case "fortran_order" when fortranOrder is null:
                        fortranOrder = ParseBool();
                        break;
                    case "shape" when shape is null:
                        shape = ParseShape();
                        break;
                    default:
                        throw Error($"only the keys 'descr', 'fortran_order' and 'shape', each once, but found '{key}'");
                }

                if (!TryConsume(','))
                {
                    Expect('}');
                    break;
                }
            }

            SkipWhitespace();
            if (_position != text.Length)
            {
                throw Error("nothing but padding after the closing '}'");
            }

            if (descr is null || fortranOrder is null || shape is null)
            {
                throw Error("the keys 'descr', 'fortran_order' and 'shape'");
            }

            return new NpyHeader(descr, fortranOrder.Value, shape);
        }

        private int[] ParseShape()
        {
            Expect('(');
            var dims = new List<int>();
            bool trailingComma = false;
            while (!TryConsume(')'))
            {
                dims.Add(ParseDimension());
                trailingComma = TryConsume(',');
                if (!trailingComma)
                {
                    Expect(')');
                    break;
                }
            }

            // In Python "(3)" is the int 3, not a tuple; NumPy rejects it, so do we.
            if (dims.Count == 1 && !trailingComma)
            {
                throw Error("'shape' to be a tuple, e.g. (3,), but found (" + dims[0].ToString(CultureInfo.InvariantCulture) + ")");
            }

            return [.. dims];
        }

        private int ParseDimension()
        {
            SkipWhitespace();
            int start = _position;
            while (_position < text.Length && char.IsAsciiDigit(text[_position]))
            {
                _position++;
            }

            if (_position == start)
            {
                throw Error("a non-negative integer dimension in 'shape'");
            }

            string digits = text[start.._position];
            // Python 2 era files wrote longs as "3L".
            if (_position < text.Length && text[_position] is 'L' or 'l')
            {
                _position++;
            }

            if (!int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int value))
            {
                throw Error($"dimensions below 2^31, but found {digits}");
            }

            return value;
        }

        private bool ParseBool()
        {
            SkipWhitespace();
            foreach ((string word, bool value) in new[] { ("True", true), ("False", false) })
            {
                if (string.CompareOrdinal(text, _position, word, 0, word.Length) == 0)
                {
                    _position += word.Length;
                    return value;
                }
            }

            throw Error("'fortran_order' to be True or False");
        }

        private string ParseString()
        {
            char quote = Peek();
            if (quote is not ('\'' or '"'))
            {
                throw Error("a quoted string");
            }

            int start = ++_position;
            int end = text.IndexOf(quote, start);
            if (end < 0)
            {
                throw Error("a closing quote");
            }

            _position = end + 1;
            return text[start..end];
        }

        private void Expect(char c)
        {
            if (!TryConsume(c))
            {
                throw Error($"'{c}'");
            }
        }

        private bool TryConsume(char c)
        {
            if (Peek() != c)
            {
                return false;
            }

            _position++;
            return true;
        }

        /// <summary>The next non-blank character, or '\0' at the end.</summary>
        private char Peek()
        {
            SkipWhitespace();
            return _position < text.Length ? text[_position] : '\0';
        }

        private void SkipWhitespace()
        {
            while (_position < text.Length && char.IsWhiteSpace(text[_position]))
            {
                _position++;
            }
        }

        private NpyFormatException Error(string expected)
        {
            // A corrupt file can claim a header of megabytes: quote only its start.
            string header = text.TrimEnd();
            if (header.Length > 200)
            {
                header = header[..200] + "…";
            }

            return new NpyFormatException(
                $"'{path}' has a malformed .npy header at character {_position}: expected {expected}. Header: {header}");
        }
    }
}
