using System.Text;

namespace Stax.Tests.Fuzz;

/// <summary>
/// A deterministic mutator of valid files: the same (sample, case) always gives the same bytes, so a
/// failure reproduces from its case number. Mutations: bit flips, interesting byte values,
/// truncation, duplicated or deleted ranges, and edits of the text inside headers (digits grown to
/// huge numbers, brackets nested deeply).
/// </summary>
public sealed class Mutator(int seed)
{
    ulong _s = (ulong)seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL;

    int Next(int n)
    {
        _s ^= _s << 13; _s ^= _s >> 7; _s ^= _s << 17;
        return (int)(_s % (ulong)n);
    }

    static readonly byte[] Interesting = { 0, 1, 0x7F, 0x80, 0xFF, (byte)'(', (byte)'9', (byte)',', (byte)'{' };

    /// <summary>One to four mutations of <paramref name="input"/>.</summary>
    public byte[] Mutate(byte[] input)
    {
        var b = new List<byte>(input);
        int count = 1 + Next(4);
        for (int m = 0; m < count && b.Count > 0; m++)
        {
            int at = Next(b.Count);
            switch (Next(8))
            {
                case 0: case 1: b[at] ^= (byte)(1 << Next(8)); break;
                case 2: b[at] = Interesting[Next(Interesting.Length)]; break;
                case 3: b.RemoveRange(at, b.Count - at); break;
                case 4: { int n = Math.Min(1 + Next(16), b.Count - at); b.InsertRange(at, b.GetRange(at, n)); break; }
                case 5: { int n = Math.Min(1 + Next(16), b.Count - at); b.RemoveRange(at, n); break; }
                case 6: GrowDigits(b); break;
                default: Nest(b, at); break;
            }
        }
        return b.ToArray();
    }

    // A run of decimal digits in a text header becomes a huge number (sizes, lengths, offsets).
    void GrowDigits(List<byte> b)
    {
        var digits = Enumerable.Range(0, b.Count).Where(i => b[i] is >= (byte)'0' and <= (byte)'9').ToList();
        if (digits.Count == 0) return;
        int at = digits[Next(digits.Count)];
        var huge = new[] { "65536", "4294967295", "9223372036854775807", "2147483647", "0", "99999999999999999999" }[Next(6)];
        b.InsertRange(at, Encoding.ASCII.GetBytes(huge));
    }

    // Deeply nested brackets: the input that once overflowed the npy header parser's stack.
    void Nest(List<byte> b, int at)
    {
        int depth = 1 + Next(20000);
        b.InsertRange(at, Enumerable.Repeat((byte)(Next(2) == 0 ? '(' : '['), depth));
    }
}
