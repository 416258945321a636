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
    public static Tensor Read(string path)
    {
        byte[] bytes;
        try
        {
            using var file = File.OpenRead(path);
            using Stream s = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            bytes = ms.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"IdxFile.Read: '{path}' is not a valid gzip file: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses IDX bytes (already decompressed); <paramref name="name"/> is used in errors.</summary>
    public static Tensor Parse(ReadOnlySpan<byte> bytes, string name = "IDX data")
    {
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new InvalidDataException($"IdxFile: {name} does not start with an IDX magic number");
        if (bytes[2] != 0x08)
            throw new InvalidDataException($"IdxFile: {name} has element type code 0x{bytes[2]:x2}; only unsigned bytes (0x08) are supported");
        int rank = bytes[3];
        if (bytes.Length < 4 + 4 * rank)
            throw new InvalidDataException($"IdxFile: {name} is truncated inside its header");
        var dims = new int[rank];
        long size = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(bytes.Slice(4 + 4 * i));
            if (d > int.MaxValue) throw new InvalidDataException($"IdxFile: {name} has an invalid dimension size {d}");
            dims[i] = (int)d;
            size *= d;
        }
        var data = bytes.Slice(4 + 4 * rank);
        if (data.Length != size)
            throw new InvalidDataException($"IdxFile: {name} should hold {size} elements for shape {Shape.Format(dims)} but has {data.Length} bytes");
        return Tensor.From(data, new Shape(dims));
    }
}
