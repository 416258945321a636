using System.Buffers.Binary;
using System.IO.Compression;

namespace Stax.IO;

/// <summary>
/// Reads the IDX format of the MNIST files (big-endian header: two zero bytes, a type code, the
/// rank, one 32-bit size per dimension, then the raw elements). Gzip-compressed files (.gz) are
/// decompressed on the fly.
/// </summary>
public static class IdxFile
{
    /// <summary>Reads an IDX file of unsigned bytes (type code 0x08) as a uint8 tensor.</summary>
    /// <remarks>A gzip file is inflated only as far as its IDX header says the data reaches (plus one
    /// byte, to detect trailing data), so a small hostile file cannot make it allocate gigabytes.</remarks>
    public static Tensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var file = File.OpenRead(path);
            using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            var head = new byte[4];
            int got = s.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            int rank = got == 4 ? head[3] : 0;
            var dimBytes = new byte[4 * rank];
            got += s.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false);
            var header = head.Concat(dimBytes).Take(got).ToArray();
            long size = DataSize(header, path); // validates the header
            if (size > Array.MaxLength - header.Length)
                throw new OutOfMemoryException($"IdxFile.Read: '{path}' declares {size} elements, more than one array can hold");
            var bytes = new byte[header.Length + size];
            header.CopyTo(bytes, 0);
            int data = s.ReadAtLeast(bytes.AsSpan(header.Length), (int)size, throwOnEndOfStream: false);
            if (data < size)
                throw new InvalidDataException($"IdxFile.Read: '{path}' is truncated: its header declares {size} data bytes but only {data} follow");
            if (s.ReadByte() >= 0)
                throw new InvalidDataException($"IdxFile.Read: '{path}' has more data than the {size} bytes its header declares");
            return Parse(bytes, path);
        }
        catch (InvalidDataException e) when (!e.Message.StartsWith("IdxFile", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"IdxFile.Read: '{path}' is not a valid gzip file: {e.Message}", e);
        }
    }

    /// <summary>Checks an IDX header and returns the number of data bytes it declares.</summary>
    static long DataSize(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"IdxFile: {name} does not start with an IDX magic number");
        if (bytes[2] != 0x08)
            throw new InvalidDataException($"IdxFile: {name} has element type code 0x{bytes[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = bytes[3];
        if (bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"IdxFile: {name} is truncated inside its header");
        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(4 + 4 * i));
            if (d > int.MaxValue) throw new InvalidDataException($"IdxFile: {name} has an invalid dimension size {d}");
            dims[i] = (int)d;
        }
        try { return new Shape(dims).Size; }
        catch (ArgumentException) { throw new InvalidDataException($"IdxFile: {name} declares shape {Shape.Format(dims)}, more elements than any file holds"); }
    }

    /// <summary>Parses IDX bytes (already decompressed); <paramref name="name"/> is used in errors.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string name = "IDX data")
    {
        long size = DataSize(bytes, name);
        int rank = bytes[3];
        var dims = new int[rank];
        for (int i = 0; i < rank; i++) dims[i] = (int)BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(4 + 4 * i));
        var data = bytes.Slice(4 + 4 * rank);
        if (data.Length != size)
            throw new InvalidDataException($"IdxFile: {name} should hold {size} elements for shape {Shape.Format(dims)} but has {data.Length} bytes");
        return Tensor.From(data, new Shape(dims));
    }
}
