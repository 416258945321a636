using System.IO.Compression;
using Stax.IO;

namespace Stax.Tests.Fuzz;

/// <summary>The file formats Stax reads, each with a loader and a few valid sample files to mutate.</summary>
public static class FileFormats
{
    /// <summary>Format names, as the reader host takes them on its command line.</summary>
    public static readonly string[] Names = { "npy", "npz", "safetensors", "checkpoint", "idx", "idx.gz" };

    /// <summary>Loads a file of <paramref name="format"/> and returns how many tensors it held.</summary>
    public static int Load(string format, string path) => format switch
    {
        "npy" => Touch(Npy.Load(path)),
        "npz" => Npz.Load(path).Values.Sum(Touch),
        "safetensors" => SafeTensors.Load(path).Tensors.Values.Sum(Touch),
        "checkpoint" => Checkpoint.Load(path, Templates).Trees.Count,
        "idx" or "idx.gz" => Touch(IdxFile.Read(path)),
        _ => throw new ArgumentException($"unknown format '{format}'"),
    };

    // Reading the data back makes a tensor that claims more elements than it holds fail here.
    static int Touch(Tensor t)
    {
        _ = t.ToBytes();
        return 1;
    }

    static readonly Dictionary<string, object?> Templates = new()
    {
        ["params"] = new[] { Tensor.Zeros(new Shape(2, 3)), Tensor.Zeros(new Shape(3)) },
    };

    /// <summary>Valid files of a format (the fuzz corpus): small, with headers worth mutating.</summary>
    public static IEnumerable<byte[]> Samples(string format)
    {
        var f = Tensor.FromArray(new float[] { 1.5f, -2, 0, float.NaN, 7, 8 }, 2, 3);
        var i = Tensor.FromArray(new[] { 1, 2, 3 });
        var b = Tensor.FromArray(new byte[] { 1, 0, 255, 4 }, 2, 2);
        switch (format)
        {
            case "npy":
                yield return Npy.Serialize(f);
                yield return Npy.Serialize(i);
                yield return Npy.Serialize(Tensor.Scalar(3.0, DType.Float64));
                break;
            case "npz":
                yield return Npz.Serialize(new Dictionary<string, Tensor> { ["w"] = f, ["b"] = i });
                yield return Npz.Serialize(new Dictionary<string, Tensor> { ["w"] = f, ["u8"] = b }, compress: true);
                break;
            case "safetensors":
                yield return SafeTensors.Serialize(new Dictionary<string, Tensor> { ["w"] = f, ["b"] = i },
                    new Dictionary<string, string> { ["step"] = "3" });
                break;
            case "checkpoint":
            {
                string tmp = Path.GetTempFileName();
                try
                {
                    Checkpoint.Save(tmp, new Dictionary<string, object?> { ["params"] = new[] { f, Tensor.FromArray(new[] { 1f, 2, 3 }) } });
                    yield return File.ReadAllBytes(tmp);
                }
                finally { File.Delete(tmp); }
                break;
            }
            case "idx":
                yield return Idx(new byte[] { 0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6 });
                break;
            case "idx.gz":
                yield return Gzip(Idx(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 9, 8, 7, 6 }));
                break;
            default: throw new ArgumentException($"unknown format '{format}'");
        }
    }

    static byte[] Idx(byte[] bytes) => bytes;

    /// <summary>Gzip-compresses bytes (as the MNIST .gz files are).</summary>
    public static byte[] Gzip(byte[] bytes)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true)) gz.Write(bytes);
        return ms.ToArray();
    }

    /// <summary>
    /// True when <paramref name="e"/> is how a reader may reject a bad file: a clear
    /// InvalidDataException / NotSupportedException, or an OutOfMemoryException raised by a size
    /// check before allocating (its message names the reader). Anything else (IndexOutOfRange,
    /// NullReference, Overflow, an unnamed exception) is a bug.
    /// </summary>
    public static bool IsCleanRejection(Exception e) => e switch
    {
        InvalidDataException or NotSupportedException => NamesReader(e.Message),
        OutOfMemoryException => NamesReader(e.Message),
        _ => false,
    };

    static bool NamesReader(string message) =>
        new[] { "Npy.", "Npz.", "SafeTensors.", "Checkpoint", "IdxFile", "CPU backend", "Tensor." }.Any(p => message.StartsWith(p, StringComparison.Ordinal));
}
