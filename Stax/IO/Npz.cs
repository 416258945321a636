using System.IO.Compression;

namespace Stax.IO;

/// <summary>
/// Reads and writes NumPy's <c>.npz</c> format: a zip archive holding one <c>NAME.npy</c> entry per
/// array (what <c>np.savez</c> / <c>np.savez_compressed</c> write and <c>np.load</c> reads).
/// </summary>
/// <remarks>
/// Names are arbitrary strings (stored UTF-8 in the zip, <c>.npy</c> appended). Each entry follows
/// the <see cref="Npy"/> rules (dtypes, conversions, validation). A corrupt archive, an entry that is
/// not a .npy file, or two entries with the same name raise <see cref="InvalidDataException"/> naming
/// the file and the entry. Saving to a path is atomic, as for <see cref="SafeTensors"/>.
/// </remarks>
public static class Npz
{
    /// <summary>
    /// Saves tensors to <paramref name="path"/> atomically; <paramref name="compress"/> deflates the
    /// entries (like <c>np.savez_compressed</c>), otherwise they are stored (like <c>np.savez</c>).
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        AtomicFile.Write(path, s => Save(s, tensors, compress));
    }

    /// <summary>Writes tensors as an .npz archive to a stream (left open).</summary>
    public static void Save(Stream stream, IReadOnlyDictionary<string, Tensor> tensors, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        foreach (var kv in tensors)
        {
            if (kv.Value is null) throw new ArgumentException($"Npz.Save: tensor '{kv.Key}' is null");
            Npy.Descr(kv.Value.DType); // bfloat16 fails here, before anything is written
        }
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var (name, t) in tensors)
        {
            var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var es = entry.Open();
            try { Npy.Save(es, t); }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"Npz.Save: cannot read the data of tensor '{name}': {e.Message}", e);
            }
        }
    }

    /// <summary>The .npz bytes of the given tensors.</summary>
    public static byte[] Serialize(IReadOnlyDictionary<string, Tensor> tensors, bool compress = false)
    {
        using var ms = new MemoryStream();
        Save(ms, tensors, compress);
        return ms.ToArray();
    }

    /// <summary>
    /// Loads every array of an .npz file, keyed by entry name without <c>.npy</c>. With
    /// <paramref name="convertTo"/>, arrays stored with another type are converted to that dtype.
    /// </summary>
    /// <exception cref="InvalidDataException">The archive or an entry is corrupt or truncated.</exception>
    /// <exception cref="NotSupportedException">An entry's dtype has no Stax dtype and no conversion was requested.</exception>
    public static Dictionary<string, Tensor> Load(string path, DType? convertTo = null) => Load(path, _ => convertTo);

    /// <summary>Loads an .npz file, converting per array as <paramref name="convert"/> says (null: keep the stored type).</summary>
    public static Dictionary<string, Tensor> Load(string path, Func<StoredTensorInfo, DType?> convert)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Read(fs, convert, $"'{path}'");
    }

    /// <summary>Loads an .npz archive from a stream; <paramref name="name"/> is used in error messages.</summary>
    public static Dictionary<string, Tensor> Load(Stream stream, DType? convertTo = null, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return Read(SafeTensors.Seekable(stream), _ => convertTo, name ?? "stream");
    }

    /// <summary>Loads an .npz archive held in memory.</summary>
    public static Dictionary<string, Tensor> Deserialize(byte[] bytes, DType? convertTo = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        return Read(new MemoryStream(bytes, writable: false), _ => convertTo, "bytes");
    }

    static Dictionary<string, Tensor> Read(Stream s, Func<StoredTensorInfo, DType?> convert, string where)
    {
        const string api = "Npz.Load";
        try
        {
            using var zip = new ZipArchive(s, ZipArchiveMode.Read, leaveOpen: true);
            var result = new Dictionary<string, Tensor>();
            foreach (var entry in zip.Entries)
            {
                string full = entry.FullName;
                if (full.EndsWith('/') && entry.Length == 0) continue; // a directory record
                string entryWhere = $"{where} entry '{full}'";
                if (!full.EndsWith(".npy", StringComparison.Ordinal))
                    throw new InvalidDataException($"{api}: {entryWhere} is not a .npy file");
                string name = full[..^4];
                if (result.ContainsKey(name)) throw new InvalidDataException($"{api}: {where}: the archive holds '{full}' twice");
                var bytes = ReadEntry(entry, api, entryWhere);
                result.Add(name, Npy.Read(new MemoryStream(bytes, writable: false), convert, api, entryWhere, name));
            }
            return result;
        }
        catch (Exception e) when (e is InvalidDataException or NotSupportedException or IOException or ArgumentException
                                  && !e.Message.StartsWith(api, StringComparison.Ordinal))
        {
            // What the zip layer throws (a corrupt directory, an unknown compression method, a
            // truncated entry) gets the file's name, like every other load error.
            throw new InvalidDataException($"{api}: {where}: not a valid zip archive (corrupt or truncated): {e.Message}", e);
        }
    }

    /// <summary>
    /// The bytes of one entry, checked against the size and CRC-32 the archive declares (as NumPy's
    /// zipfile does). Memory grows with the data actually inflated, never with the declared size, so
    /// a tiny archive that declares gigabytes cannot make the reader allocate them.
    /// </summary>
    static byte[] ReadEntry(ZipArchiveEntry entry, string api, string where)
    {
        long declared = entry.Length;
        if (declared > Array.MaxLength)
            throw new NotSupportedException($"{api}: {where} is {declared} bytes, more than one array can hold");
        var ms = new MemoryStream();
        var chunk = new byte[1 << 16];
        uint crc = 0;
        using (var es = entry.Open())
        {
            while (true)
            {
                int n = es.Read(chunk, 0, (int)Math.Min(chunk.Length, declared + 1 - ms.Length));
                if (n == 0) break;
                crc = Crc32.Append(crc, chunk.AsSpan(0, n));
                ms.Write(chunk, 0, n);
                if (ms.Length > declared)
                    throw new InvalidDataException($"{api}: {where} is corrupt: it holds more than the {declared} bytes the archive declares");
            }
        }
        if (ms.Length < declared)
            throw new InvalidDataException($"{api}: {where} is truncated: it holds {ms.Length} of the {declared} bytes the archive declares");
        if (crc != entry.Crc32)
            throw new InvalidDataException($"{api}: {where} is corrupt: bad CRC-32 (stored 0x{entry.Crc32:x8}, computed 0x{crc:x8})");
        return ms.ToArray();
    }
}
