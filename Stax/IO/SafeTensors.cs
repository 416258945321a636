using System.Buffers.Binary;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Stax.IO;

/// <summary>One tensor entry of a checkpoint file's header (before its data is read).</summary>
/// <param name="Name">The tensor's name (any UTF-8 string).</param>
/// <param name="StoredDType">The element type as the file spells it (safetensors: <c>F32</c>, <c>BF16</c>, ...; .npy: <c>&lt;f4</c>, ...).</param>
/// <param name="Shape">The shape.</param>
/// <param name="Begin">Start of the data, in bytes from the start of the data buffer (safetensors) or of the file (.npy).</param>
/// <param name="End">End (exclusive) of the data, in the same frame as <paramref name="Begin"/>.</param>
public sealed record StoredTensorInfo(string Name, string StoredDType, Shape Shape, long Begin, long End)
{
    /// <summary>The Stax dtype with the same bytes, or null when Stax has none (load it with a conversion).</summary>
    public DType? DType { get; init; }
}

/// <summary>
/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian unsigned header
/// length N, N bytes of UTF-8 JSON mapping each tensor name to
/// <c>{"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}</c> (offsets relative to the byte
/// buffer after the header) plus an optional <c>"__metadata__"</c> string-to-string map, then the raw
/// little-endian element bytes.
/// </summary>
/// <remarks>
/// <para>Tensor names are arbitrary strings (UTF-8 in the file); only <c>__metadata__</c> is reserved.
/// Tree checkpoints name each leaf by its key path.</para>
/// <para>The writer puts the metadata first in the header, lays the tensors out in the buffer by
/// element size (largest first, as the reference implementation does, so every tensor stays aligned
/// to its element size) and then by ordinal name, and pads the header with spaces to a multiple of
/// 8 bytes, as the reference writer does.</para>
/// <para>The reader validates like the reference implementation and more: the header length fits
/// the file (and is at most 100 MB), the JSON is well formed with exactly one entry per name, every
/// dtype is known, shape × element size equals the offsets' span, and the tensors cover the buffer
/// contiguously without gaps or overlaps up to its last byte. Any violation raises
/// <see cref="InvalidDataException"/> naming the file and the problem. Element types Stax has no
/// dtype for (I8, I16, I64, U16, U64, F8_E5M2, F8_E4M3, F8_E8M0) raise
/// <see cref="NotSupportedException"/> unless a conversion is requested; F4, F6_* and C64 cannot be
/// loaded at all.</para>
/// <para>Saving to a path is atomic: the file is written to a temp file in the same directory, flushed
/// to the disk and renamed over the target, so a failed save leaves the previous file intact.</para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The reserved header key holding the string-to-string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The largest header accepted (the reference implementation's limit, 100 MB).</summary>
    public const long MaxHeaderSize = 100_000_000;

    const string Api = "SafeTensors";

    static readonly (string Name, int Bits, WireKind Kind)[] Types =
    {
        ("F64", 64, WireKind.F64), ("F32", 32, WireKind.F32), ("F16", 16, WireKind.F16), ("BF16", 16, WireKind.BF16),
        ("I64", 64, WireKind.I64), ("I32", 32, WireKind.I32), ("I16", 16, WireKind.I16), ("I8", 8, WireKind.I8),
        ("U64", 64, WireKind.U64), ("U32", 32, WireKind.U32), ("U16", 16, WireKind.U16), ("U8", 8, WireKind.U8),
        ("BOOL", 8, WireKind.Bool),
        ("F8_E5M2", 8, WireKind.F8E5M2), ("F8_E4M3", 8, WireKind.F8E4M3), ("F8_E8M0", 8, WireKind.F8E8M0),
        ("F4", 4, WireKind.Opaque), ("F6_E2M3", 6, WireKind.Opaque), ("F6_E3M2", 6, WireKind.Opaque), ("C64", 64, WireKind.Opaque),
    };

    /// <summary>The safetensors dtype name of a Stax dtype (F32, F64, F16, BF16, I32, U32, U8, BOOL).</summary>
    public static string DTypeName(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        DType.Int32 => "I32",
        DType.UInt32 => "U32",
        DType.UInt8 => "U8",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    // ------------------------------------------------------------------ writing

    /// <summary>
    /// Saves tensors (and optional metadata) to <paramref name="path"/> atomically: on any failure the
    /// previous file is left as it was and no temp file remains.
    /// </summary>
    /// <exception cref="ArgumentException">A name is the reserved <c>__metadata__</c>, or a tensor or metadata value is null.</exception>
    /// <exception cref="InvalidOperationException">A tensor is traced or donated (its data cannot be read).</exception>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.Write(path, s => Save(s, tensors, metadata));
    }

    /// <summary>Writes tensors (and optional metadata) in safetensors format to a stream.</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<KeyValuePair<string, Tensor>>();
        foreach (var kv in tensors)
        {
            if (kv.Key == MetadataKey)
                throw new ArgumentException($"SafeTensors.Save: '{MetadataKey}' is reserved for metadata and cannot name a tensor");
            if (kv.Value is null)
                throw new ArgumentException($"SafeTensors.Save: tensor '{kv.Key}' is null");
            entries.Add(kv);
        }
        entries.Sort((a, b) =>
        {
            int c = b.Value.DType.SizeOf().CompareTo(a.Value.DType.SizeOf());
            return c != 0 ? c : string.CompareOrdinal(a.Key, b.Key);
        });

        var header = Header(entries, metadata);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        stream.Write(len);
        stream.Write(header);
        foreach (var (name, t) in entries)
        {
            byte[] bytes;
            try { bytes = t.ToBytes(); }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"SafeTensors.Save: cannot read the data of tensor '{name}': {e.Message}", e);
            }
            stream.Write(bytes);
        }
    }

    /// <summary>The safetensors bytes of the given tensors (and optional metadata).</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var ms = new MemoryStream();
        Save(ms, tensors, metadata);
        return ms.ToArray();
    }

    static byte[] Header(List<KeyValuePair<string, Tensor>> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        var buf = new MemoryStream();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata != null)
            {
                w.WriteStartObject(MetadataKey);
                foreach (var kv in metadata)
                {
                    if (kv.Value is null) throw new ArgumentException($"SafeTensors.Save: metadata value of '{kv.Key}' is null");
                    w.WriteString(kv.Key, kv.Value);
                }
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, t) in entries)
            {
                long bytes = t.Size * t.DType.SizeOf();
                w.WriteStartObject(name);
                w.WriteString("dtype", DTypeName(t.DType));
                w.WriteStartArray("shape");
                foreach (var d in t.Shape.Dims) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        int n = (int)buf.Length;
        int pad = (8 - n % 8) % 8;
        for (int i = 0; i < pad; i++) buf.WriteByte((byte)' ');
        return buf.ToArray();
    }

    // ------------------------------------------------------------------ reading

    /// <summary>
    /// Loads every tensor and the metadata of a safetensors file. With <paramref name="convertTo"/>,
    /// every tensor whose stored type differs is converted to that dtype (float16/bfloat16/uint8/int64/...
    /// to float32, say); without it, a tensor of a type Stax lacks raises NotSupportedException.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is corrupt or truncated (the message names the file and the problem).</exception>
    /// <exception cref="NotSupportedException">A tensor's type has no Stax dtype and no conversion was requested.</exception>
    /// <exception cref="OverflowException">A requested conversion to an integer type meets a value that does not fit.</exception>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path, DType? convertTo = null)
        => Load(path, _ => convertTo);

    /// <summary>
    /// Loads a safetensors file, choosing per tensor: <paramref name="convert"/> returns the dtype to
    /// convert that tensor to, or null to keep its stored type.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(string path, Func<StoredTensorInfo, DType?> convert)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return LoadSeekable(fs, convert, $"'{path}'");
    }

    /// <summary>Loads safetensors data from a stream (read to its end); <paramref name="name"/> is used in error messages.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(Stream stream, DType? convertTo = null, string? name = null)
        => Load(stream, _ => convertTo, name);

    /// <summary>Loads safetensors data from a stream, converting per tensor as <paramref name="convert"/> says.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Load(Stream stream, Func<StoredTensorInfo, DType?> convert, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(convert);
        return LoadSeekable(Seekable(stream), convert, name ?? "stream");
    }

    /// <summary>Loads safetensors data held in memory.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Deserialize(byte[] bytes, DType? convertTo = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return LoadSeekable(new MemoryStream(bytes, writable: false), _ => convertTo, "bytes");
    }

    /// <summary>Reads and validates only the header of a safetensors file: the tensor entries (in buffer order) and the metadata.</summary>
    public static (IReadOnlyList<StoredTensorInfo> Tensors, Dictionary<string, string> Metadata) ReadHeader(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var (entries, meta, _) = ParseHeader(fs, $"'{path}'");
        return (entries.Select(e => e.Info).ToList(), meta);
    }

    internal static Stream Seekable(Stream s)
    {
        if (s.CanSeek) return s;
        var ms = new MemoryStream();
        s.CopyTo(ms);
        ms.Position = 0;
        return ms;
    }

    sealed record Entry(StoredTensorInfo Info, WireKind Kind);

    static (Dictionary<string, Tensor>, Dictionary<string, string>) LoadSeekable(Stream s, Func<StoredTensorInfo, DType?> convert, string where)
    {
        var (entries, meta, dataStart) = ParseHeader(s, where);
        var targets = new DType[entries.Count];
        for (int i = 0; i < entries.Count; i++)
            targets[i] = ElementCodec.Plan(entries[i].Kind, entries[i].Info.StoredDType, convert(entries[i].Info), "SafeTensors.Load", where, entries[i].Info.Name);
        var result = new Dictionary<string, Tensor>(entries.Count);
        s.Position = dataStart;
        for (int i = 0; i < entries.Count; i++)
        {
            var info = entries[i].Info;
            var data = AtomicFile.ReadExactly(s, info.End - info.Begin, "SafeTensors.Load", where, $"tensor '{info.Name}'");
            result.Add(info.Name, ElementCodec.ToTensor(data, entries[i].Kind, info.Shape, targets[i], "SafeTensors.Load", where, info.Name));
        }
        return (result, meta);
    }

    /// <summary>Reads the length prefix and header, validates everything, and returns the entries sorted by offset.</summary>
    static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ParseHeader(Stream s, string where)
    {
        const string api = "SafeTensors.Load";
        long total = s.Length - s.Position;
        if (total < 8)
            throw new InvalidDataException($"{api}: {where}: the file is truncated: it has {total} bytes, fewer than the 8-byte header length");
        var lenBytes = AtomicFile.ReadExactly(s, 8, api, where, "the header length");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (n > MaxHeaderSize)
            throw new InvalidDataException($"{api}: {where}: the header length {n} is larger than the {MaxHeaderSize}-byte limit (not a safetensors file, or corrupt)");
        if ((long)n > total - 8)
            throw new InvalidDataException($"{api}: {where}: the header length {n} exceeds the {total - 8} bytes that follow it (truncated or corrupt file)");
        var header = AtomicFile.ReadExactly(s, (long)n, api, where, "the header");
        long bufferLength = total - 8 - (long)n;
        var (entries, meta) = ParseJson(header, bufferLength, where);
        return (entries, meta, s.Position);
    }

    static (List<Entry>, Dictionary<string, string>) ParseJson(byte[] header, long bufferLength, string where)
    {
        const string api = "SafeTensors.Load";
        InvalidDataException Bad(string what) => new($"{api}: {where}: {what}");
        if (header.Length == 0 || header[0] != (byte)'{')
            throw Bad("the header does not start with '{' (not a safetensors file, or corrupt)");
        // The format's header is UTF-8 JSON; the JSON reader does not validate strings it skips.
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Bad("the header is not valid UTF-8");

        var entries = new List<Entry>();
        var meta = new Dictionary<string, string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        bool sawMeta = false;
        try
        {
            var r = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            r.Read(); // StartObject, checked above
            while (true)
            {
                Next(ref r);
                if (r.TokenType == JsonTokenType.EndObject) break;
                string name = r.GetString()!;
                Next(ref r);
                if (name == MetadataKey)
                {
                    if (sawMeta) throw Bad($"'{MetadataKey}' appears twice in the header");
                    sawMeta = true;
                    if (r.TokenType == JsonTokenType.Null) continue;
                    if (r.TokenType != JsonTokenType.StartObject) throw Bad($"'{MetadataKey}' must be an object of strings, got {r.TokenType}");
                    while (true)
                    {
                        Next(ref r);
                        if (r.TokenType == JsonTokenType.EndObject) break;
                        string key = r.GetString()!;
                        Next(ref r);
                        if (r.TokenType != JsonTokenType.String) throw Bad($"metadata value of '{key}' must be a string, got {r.TokenType}");
                        if (!meta.TryAdd(key, r.GetString()!)) throw Bad($"metadata key '{key}' appears twice");
                    }
                    continue;
                }
                if (!names.Add(name)) throw Bad($"tensor '{name}' appears twice in the header");
                if (r.TokenType != JsonTokenType.StartObject) throw Bad($"the entry of tensor '{name}' must be an object, got {r.TokenType}");
                string? dtype = null;
                List<int>? shape = null;
                List<long>? offsets = null;
                while (true)
                {
                    Next(ref r);
                    if (r.TokenType == JsonTokenType.EndObject) break;
                    if (r.ValueTextEquals("dtype"u8))
                    {
                        if (dtype != null) throw Bad($"tensor '{name}' has two 'dtype' fields");
                        Next(ref r);
                        if (r.TokenType != JsonTokenType.String) throw Bad($"tensor '{name}': 'dtype' must be a string, got {r.TokenType}");
                        dtype = r.GetString()!;
                    }
                    else if (r.ValueTextEquals("shape"u8))
                    {
                        if (shape != null) throw Bad($"tensor '{name}' has two 'shape' fields");
                        Next(ref r);
                        shape = new List<int>();
                        foreach (var d in Integers(ref r, name, "shape", Bad))
                        {
                            if (d > int.MaxValue) throw Bad($"tensor '{name}': dimension {d} is too large (at most {int.MaxValue})");
                            shape.Add((int)d);
                        }
                    }
                    else if (r.ValueTextEquals("data_offsets"u8))
                    {
                        if (offsets != null) throw Bad($"tensor '{name}' has two 'data_offsets' fields");
                        Next(ref r);
                        offsets = Integers(ref r, name, "data_offsets", Bad);
                        if (offsets.Count != 2) throw Bad($"tensor '{name}': 'data_offsets' must hold two numbers [begin, end], got {offsets.Count}");
                    }
                    else
                    {
                        // Unknown fields are ignored, as the reference implementation does.
                        Next(ref r);
                        r.Skip();
                    }
                }
                if (dtype == null || shape == null || offsets == null)
                    throw Bad($"tensor '{name}' lacks {(dtype == null ? "'dtype'" : shape == null ? "'shape'" : "'data_offsets'")}");
                int t = Array.FindIndex(Types, x => x.Name == dtype);
                if (t < 0) throw Bad($"tensor '{name}' has the unknown dtype '{dtype}'");
                var (_, bits, kind) = Types[t];
                long begin = offsets[0], end = offsets[1];
                if (end < begin) throw Bad($"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");
                long elements = 1;
                foreach (var d in shape)
                    if (d != 0 && elements > long.MaxValue / 64 / d) throw Bad($"tensor '{name}': shape [{string.Join(", ", shape)}] is too large");
                    else elements *= d;
                if (elements * bits % 8 != 0) throw Bad($"tensor '{name}': {elements} elements of {dtype} do not fill whole bytes");
                long bytes = elements * bits / 8;
                if (end - begin != bytes)
                    throw Bad($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets [{begin}, {end}] span {end - begin}");
                var info = new StoredTensorInfo(name, dtype, new Shape(shape.ToArray()), begin, end) { DType = ElementCodec.Native(kind) };
                entries.Add(new Entry(info, kind));
            }
            // Only whitespace (the padding) may follow the object.
            if (r.Read()) throw Bad($"the header has content after its JSON object ({r.TokenType})");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{api}: {where}: the header is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString throws this for invalid UTF-8 inside a string.
            throw new InvalidDataException($"{api}: {where}: the header is not valid UTF-8 JSON: {e.Message}", e);
        }

        entries.Sort((a, b) => a.Info.Begin != b.Info.Begin ? a.Info.Begin.CompareTo(b.Info.Begin) : a.Info.End.CompareTo(b.Info.End));
        long at = 0;
        foreach (var e in entries)
        {
            if (e.Info.Begin != at)
                throw Bad(e.Info.Begin < at
                    ? $"tensor '{e.Info.Name}' at data_offsets [{e.Info.Begin}, {e.Info.End}] overlaps the data before it (which ends at {at})"
                    : $"tensor '{e.Info.Name}' at data_offsets [{e.Info.Begin}, {e.Info.End}] leaves a gap after offset {at}");
            if (e.Info.End > bufferLength)
                throw Bad($"tensor '{e.Info.Name}' at data_offsets [{e.Info.Begin}, {e.Info.End}] runs past the end of the data buffer ({bufferLength} bytes; truncated file?)");
            at = e.Info.End;
        }
        if (at != bufferLength)
            throw Bad($"the tensors cover {at} bytes but the data buffer holds {bufferLength} (trailing bytes not described by the header)");
        return (entries, meta);
    }

    static void Next(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException("unexpected end of the header");
    }

    static List<long> Integers(ref Utf8JsonReader r, string name, string field, Func<string, InvalidDataException> bad)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw bad($"tensor '{name}': '{field}' must be an array, got {r.TokenType}");
        var list = new List<long>();
        while (true)
        {
            Next(ref r);
            if (r.TokenType == JsonTokenType.EndArray) return list;
            if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long v) || v < 0)
                throw bad($"tensor '{name}': '{field}' must hold non-negative integers, got {(r.TokenType == JsonTokenType.Number ? Encoding.UTF8.GetString(r.ValueSpan) : r.TokenType.ToString())}");
            list.Add(v);
        }
    }
}
