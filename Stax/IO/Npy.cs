using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Stax.IO;

/// <summary>
/// Reads and writes NumPy's <c>.npy</c> format: the magic <c>\x93NUMPY</c>, a version byte pair, the
/// header length (little-endian uint16 for version 1.0, uint32 for 2.0 and 3.0), a Python dict
/// literal <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c> padded with spaces and a
/// newline so the data starts on a 64-byte boundary, then the raw elements.
/// </summary>
/// <remarks>
/// <para>Written files are byte-identical to what <c>np.save</c> writes (version 1.0 unless the header
/// needs more than 65535 bytes, C order, the same spare room after the header for a growing first
/// axis). Stax dtypes map to the descrs <c>&lt;f4 &lt;f8 &lt;f2 &lt;i4 &lt;u4 |u1 |b1</c>; NumPy has no
/// bfloat16, so saving one raises NotSupportedException (convert it, or use <see cref="SafeTensors"/>).</para>
/// <para>Reading accepts versions 1.0–3.0, little-, big-endian and native descrs, and
/// <c>fortran_order: True</c> (the data is transposed into row-major order). The descrs
/// <c>i1 i2 i8 u2 u8</c> have no Stax dtype: they raise NotSupportedException unless a conversion is
/// requested. Every malformed header, a truncated file or bytes after the data raise
/// <see cref="InvalidDataException"/> naming the file and the problem.</para>
/// <para>Saving to a path is atomic (temp file in the same directory, flushed, renamed over the target).</para>
/// </remarks>
public static class Npy
{
    static ReadOnlySpan<byte> Magic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    const int Align = 64;
    const int GrowthAxisMaxDigits = 21;

    /// <summary>The NumPy descr of a Stax dtype (<c>&lt;f4</c>, <c>|u1</c>, ...); bfloat16 has none.</summary>
    public static string Descr(DType dtype) => dtype switch
    {
        DType.Float32 => "<f4",
        DType.Float64 => "<f8",
        DType.Float16 => "<f2",
        DType.Int32 => "<i4",
        DType.UInt32 => "<u4",
        DType.UInt8 => "|u1",
        DType.Bool => "|b1",
        DType.BFloat16 => throw new NotSupportedException(
            "Npy: NumPy has no bfloat16 dtype; convert the tensor first (e.g. .AsType(DType.Float32)) or save it with SafeTensors"),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    // ------------------------------------------------------------------ writing

    /// <summary>Saves a tensor to <paramref name="path"/> atomically (the previous file survives any failure).</summary>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensor);
        Descr(tensor.DType); // fail before touching the disk
        AtomicFile.Write(path, s => Save(s, tensor));
    }

    /// <summary>Writes a tensor in .npy format to a stream.</summary>
    public static void Save(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensor);
        stream.Write(HeaderBytes(Descr(tensor.DType), tensor.Shape));
        byte[] data;
        try { data = tensor.ToBytes(); }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"Npy.Save: cannot read the tensor's data: {e.Message}", e);
        }
        stream.Write(data);
    }

    /// <summary>The .npy bytes of a tensor.</summary>
    public static byte[] Serialize(Tensor tensor)
    {
        using var ms = new MemoryStream();
        Save(ms, tensor);
        return ms.ToArray();
    }

    /// <summary>The magic, version, length and padded header exactly as NumPy writes them.</summary>
    internal static byte[] HeaderBytes(string descr, Shape shape)
    {
        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': ").Append(Shape.Format(shape.Dims)).Append(", }");
        if (shape.Rank > 0) sb.Append(' ', GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length);
        var header = Encoding.Latin1.GetBytes(sb.ToString());
        int hlen = header.Length + 1; // the newline
        int major = 1, lenField = 2;
        int padlen = Align - (Magic.Length + 2 + lenField + hlen) % Align;
        if (hlen + padlen > ushort.MaxValue)
        {
            major = 2; lenField = 4;
            padlen = Align - (Magic.Length + 2 + lenField + hlen) % Align;
        }
        var result = new byte[Magic.Length + 2 + lenField + hlen + padlen];
        Magic.CopyTo(result);
        result[6] = (byte)major;
        result[7] = 0;
        if (lenField == 2) BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(8), (ushort)(hlen + padlen));
        else BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(8), (uint)(hlen + padlen));
        int at = 8 + lenField;
        header.CopyTo(result, at);
        at += header.Length;
        result.AsSpan(at, padlen).Fill((byte)' ');
        result[^1] = (byte)'\n';
        return result;
    }

    // ------------------------------------------------------------------ reading

    /// <summary>
    /// Loads a .npy file. With <paramref name="convertTo"/>, the data is converted to that dtype when
    /// stored differently (needed for int8/int16/int64/uint16/uint64 files, which Stax has no dtype for).
    /// </summary>
    /// <exception cref="InvalidDataException">The file is corrupt or truncated.</exception>
    /// <exception cref="NotSupportedException">The descr has no Stax dtype and no conversion was requested, or NumPy-only types (complex, strings, objects, records).</exception>
    public static Tensor Load(string path, DType? convertTo = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Read(fs, _ => convertTo, "Npy.Load", $"'{path}'", Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Loads .npy data from a stream (to its end); <paramref name="name"/> is used in error messages.</summary>
    public static Tensor Load(Stream stream, DType? convertTo = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(SafeTensors.Seekable(stream), _ => convertTo, "Npy.Load", name ?? "stream", name ?? "array");
    }

    /// <summary>Loads .npy data held in memory.</summary>
    public static Tensor Deserialize(byte[] bytes, DType? convertTo = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Read(new MemoryStream(bytes, writable: false), _ => convertTo, "Npy.Load", "bytes", "array");
    }

    /// <summary>Reads one array from a seekable stream that holds exactly one .npy file.</summary>
    internal static Tensor Read(Stream s, Func<StoredTensorInfo, DType?> convert, string api, string where, string tensorName)
    {
        InvalidDataException Bad(string what) => new($"{api}: {where}: {what}");
        long total = s.Length - s.Position;
        if (total < 10) throw Bad($"the file is truncated: {total} bytes cannot hold a .npy preamble");
        var pre = AtomicFile.ReadExactly(s, 8, api, where, "the preamble");
        if (!pre.AsSpan(0, 6).SequenceEqual(Magic)) throw Bad("it does not start with the .npy magic \\x93NUMPY");
        int major = pre[6], minor = pre[7];
        if (major is < 1 or > 3 || minor != 0) throw Bad($"unsupported .npy format version {major}.{minor} (1.0, 2.0 and 3.0 are known)");
        var lenBytes = AtomicFile.ReadExactly(s, major == 1 ? 2 : 4, api, where, "the header length");
        long hlen = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lenBytes) : BinaryPrimitives.ReadUInt32LittleEndian(lenBytes);
        long after = s.Length - s.Position;
        if (hlen > after) throw Bad($"the header length {hlen} exceeds the {after} bytes that follow it (truncated or corrupt file)");
        var headerBytes = AtomicFile.ReadExactly(s, hlen, api, where, "the header");
        string header;
        try { header = (major == 3 ? new UTF8Encoding(false, true) : Encoding.Latin1).GetString(headerBytes); }
        catch (DecoderFallbackException) { throw Bad("the header is not valid UTF-8"); }

        var (descr, fortran, dims) = ParseHeader(header, api, where, Bad);
        var (kind, size, swap) = ParseDescr(descr, api, where, Bad);
        Shape shape;
        try { shape = new Shape(dims); }
        catch (ArgumentException e) { throw Bad($"'shape' is impossible: {e.Message}"); }
        long count = shape.Size;
        if (count > Array.MaxLength / size)
            throw new NotSupportedException($"{api}: {where}: shape {shape} of '{descr}' is too large for one array");
        long dataStart = s.Position;
        var info = new StoredTensorInfo(tensorName, descr, shape, dataStart, dataStart + count * size) { DType = ElementCodec.Native(kind) };
        var target = ElementCodec.Plan(kind, $"'{descr}'", convert(info), api, where, tensorName);
        long remaining = s.Length - s.Position;
        if (remaining < count * size)
            throw Bad($"the file is truncated: shape {shape} of '{descr}' needs {count * size} data bytes but only {remaining} remain");
        if (remaining > count * size)
            throw Bad($"{remaining - count * size} unexpected bytes follow the {count * size} data bytes of shape {shape}");
        var data = AtomicFile.ReadExactly(s, count * size, api, where, "the data");
        if (swap) ElementCodec.SwapBytes(data, size);
        if (fortran && shape.Rank > 1) data = FortranToC(data, dims, size);
        return ElementCodec.ToTensor(data, kind, shape, target, api, where, tensorName);
    }

    /// <summary>Reorders column-major element bytes into row-major order.</summary>
    static byte[] FortranToC(byte[] src, int[] dims, int size)
    {
        var dst = new byte[src.Length];
        switch (size)
        {
            case 1: FortranToC<byte>(src, dst, dims); break;
            case 2: FortranToC<ushort>(src, dst, dims); break;
            case 4: FortranToC<uint>(src, dst, dims); break;
            default: FortranToC<ulong>(src, dst, dims); break;
        }
        return dst;
    }

    // Column-major to row-major is a reversal of the axes. For every combination of the middle
    // axes it is a 2-D transpose between the first axis (contiguous in the source) and the last
    // (contiguous in the destination), done in square tiles so both sides stay in cache.
    static void FortranToC<T>(byte[] srcBytes, byte[] dstBytes, int[] dims) where T : unmanaged
    {
        var src = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(srcBytes.AsSpan());
        var dst = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(dstBytes.AsSpan());
        int rank = dims.Length;
        if (dst.Length == 0) return;
        var fStride = new long[rank];
        var cStride = new long[rank];
        long acc = 1;
        for (int k = 0; k < rank; k++) { fStride[k] = acc; acc *= dims[k]; }
        acc = 1;
        for (int k = rank - 1; k >= 0; k--) { cStride[k] = acc; acc *= dims[k]; }
        int rows = dims[0], cols = dims[rank - 1];
        long colStep = fStride[rank - 1], rowStep = cStride[0];
        const int Tile = 32;
        var mid = new int[rank];
        long middles = acc / ((long)rows * cols);
        for (long m = 0; m < middles; m++)
        {
            long srcBase = 0, dstBase = 0;
            for (int k = 1; k < rank - 1; k++) { srcBase += mid[k] * fStride[k]; dstBase += mid[k] * cStride[k]; }
            for (int r0 = 0; r0 < rows; r0 += Tile)
                for (int c0 = 0; c0 < cols; c0 += Tile)
                {
                    int r1 = Math.Min(rows, r0 + Tile), c1 = Math.Min(cols, c0 + Tile);
                    for (int r = r0; r < r1; r++)
                    {
                        long d = dstBase + r * rowStep, sOff = srcBase + r + c0 * colStep;
                        for (int c = c0; c < c1; c++, sOff += colStep) dst[(int)(d + c)] = src[(int)sOff];
                    }
                }
            for (int k = rank - 2; k >= 1; k--)
            {
                if (++mid[k] < dims[k]) break;
                mid[k] = 0;
            }
        }
    }

    static (WireKind Kind, int Size, bool Swap) ParseDescr(string descr, string api, string where, Func<string, InvalidDataException> bad)
    {
        NotSupportedException Unsupported() => new($"{api}: {where}: NumPy dtype '{descr}' is not supported (Stax reads bool, int, uint and float arrays)");
        if (descr.Length < 2) throw bad($"the descr '{descr}' is not a NumPy type string");
        int i = 0;
        char order = '=';
        if (descr[0] is '<' or '>' or '|' or '=') { order = descr[0]; i = 1; }
        char kindChar = descr[i];
        if (!char.IsAsciiLetter(kindChar) || !int.TryParse(descr.AsSpan(i + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int size))
            throw Unsupported();
        WireKind? kind = (kindChar, size) switch
        {
            ('f', 2) => WireKind.F16, ('f', 4) => WireKind.F32, ('f', 8) => WireKind.F64,
            ('i', 1) => WireKind.I8, ('i', 2) => WireKind.I16, ('i', 4) => WireKind.I32, ('i', 8) => WireKind.I64,
            ('u', 1) => WireKind.U8, ('u', 2) => WireKind.U16, ('u', 4) => WireKind.U32, ('u', 8) => WireKind.U64,
            ('b', 1) => WireKind.Bool,
            _ => null,
        };
        if (kind == null) throw Unsupported();
        bool swap = order == '>' && size > 1 && BitConverter.IsLittleEndian;
        return (kind.Value, size, swap);
    }

    // A small parser for the Python literal NumPy writes (and ast.literal_eval reads).
    static (string Descr, bool Fortran, int[] Shape) ParseHeader(string h, string api, string where, Func<string, InvalidDataException> bad)
    {
        int p = 0;
        object? value;
        try { value = ParseValue(h, ref p, 0); }
        catch (FormatException e) { throw bad($"the header is not a valid Python literal: {e.Message} (header: {Show(h)})"); }
        SkipSpace(h, ref p);
        if (p != h.Length) throw bad($"the header has unexpected text after its dict at position {p} (header: {Show(h)})");
        if (value is not Dictionary<string, object?> d) throw bad($"the header is not a dict (header: {Show(h)})");
        if (d.Count != 3 || !d.ContainsKey("descr") || !d.ContainsKey("fortran_order") || !d.ContainsKey("shape"))
            throw bad($"the header must hold exactly the keys 'descr', 'fortran_order' and 'shape', got {string.Join(", ", d.Keys.Select(k => $"'{k}'"))}");
        if (d["descr"] is not string descr)
            throw new NotSupportedException($"{api}: {where}: structured NumPy dtypes (record arrays) are not supported (descr: {Show(h)})");
        if (d["fortran_order"] is not bool fortran) throw bad($"'fortran_order' must be True or False (header: {Show(h)})");
        if (d["shape"] is not List<object?> { } tuple || tuple.Any(x => x is not long)) throw bad($"'shape' must be a tuple of integers (header: {Show(h)})");
        var dims = new int[tuple.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            long v = (long)tuple[i]!;
            if (v < 0 || v > int.MaxValue) throw bad($"'shape' has the dimension {v}, outside 0..{int.MaxValue}");
            dims[i] = (int)v;
        }
        return (descr, fortran, dims);
    }

    static string Show(string h) => h.Length > 200 ? h[..200] + "..." : h.TrimEnd();

    static void SkipSpace(string h, ref int p)
    {
        while (p < h.Length && h[p] is ' ' or '\n' or '\t' or '\r') p++;
    }

    // NumPy's headers nest two levels (a dict holding a tuple); a limit keeps a hostile header from
    // overflowing the stack, which no catch could stop.
    const int MaxNesting = 16;

    static object? ParseValue(string h, ref int p, int depth)
    {
        SkipSpace(h, ref p);
        if (p >= h.Length) throw new FormatException("unexpected end");
        if (depth > MaxNesting) throw new FormatException($"values nest more than {MaxNesting} levels deep at position {p}");
        char c = h[p];
        if (c == '{')
        {
            p++;
            var d = new Dictionary<string, object?>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace(h, ref p);
                if (p < h.Length && h[p] == '}') { p++; return d; }
                if (ParseValue(h, ref p, depth + 1) is not string key) throw new FormatException("dict keys must be strings");
                SkipSpace(h, ref p);
                if (p >= h.Length || h[p] != ':') throw new FormatException($"expected ':' at position {p}");
                p++;
                if (!d.TryAdd(key, ParseValue(h, ref p, depth + 1))) throw new FormatException($"the key '{key}' appears twice");
                SkipSpace(h, ref p);
                if (p < h.Length && h[p] == ',') { p++; continue; }
                if (p < h.Length && h[p] == '}') { p++; return d; }
                throw new FormatException($"expected ',' or '}}' at position {p}");
            }
        }
        if (c is '(' or '[')
        {
            char close = c == '(' ? ')' : ']';
            p++;
            var list = new List<object?>();
            bool comma = false;
            while (true)
            {
                SkipSpace(h, ref p);
                if (p < h.Length && h[p] == close) { p++; break; }
                list.Add(ParseValue(h, ref p, depth + 1));
                SkipSpace(h, ref p);
                if (p < h.Length && h[p] == ',') { p++; comma = true; continue; }
                if (p < h.Length && h[p] == close) { p++; comma = false; break; }
                throw new FormatException($"expected ',' or '{close}' at position {p}");
            }
            // (5) is just 5 in Python, not a tuple.
            if (c == '(' && list.Count == 1 && !comma) return list[0];
            return list;
        }
        if (c is '\'' or '"')
        {
            int end = h.IndexOf(c, p + 1);
            if (end < 0) throw new FormatException("unterminated string");
            string s = h.Substring(p + 1, end - p - 1);
            if (s.Contains('\\')) throw new FormatException("escapes in strings are not supported");
            p = end + 1;
            return s;
        }
        if (char.IsAsciiDigit(c))
        {
            int start = p;
            while (p < h.Length && char.IsAsciiDigit(h[p])) p++;
            if (!long.TryParse(h.AsSpan(start, p - start), NumberStyles.None, CultureInfo.InvariantCulture, out long v))
                throw new FormatException($"integer too large at position {start}");
            if (p < h.Length && h[p] is 'L' or 'l') p++; // Python 2 long literals
            return v;
        }
        foreach (var (word, val) in new (string, object?)[] { ("True", true), ("False", false), ("None", null) })
            if (string.CompareOrdinal(h, p, word, 0, word.Length) == 0 && (p + word.Length == h.Length || !char.IsAsciiLetterOrDigit(h[p + word.Length])))
            {
                p += word.Length;
                return val;
            }
        throw new FormatException($"unexpected character '{c}' at position {p}");
    }
}
