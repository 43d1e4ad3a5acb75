using System.Security.Cryptography;

namespace CapCluster.Security.Internal;

/// <summary>RFC 4648 base32, lowercase, without padding.</summary>
internal static class Base32
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var chars = new char[(data.Length * 8 + 4) / 5];
        int buffer = 0, bits = 0, index = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[index++] = Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }
        if (bits > 0)
            chars[index++] = Alphabet[(buffer << (5 - bits)) & 31];
        return new string(chars, 0, index);
    }

    public static bool IsAlphabet(char c) => c is (>= 'a' and <= 'z') or (>= '2' and <= '7');

    /// <summary>Index of the first character outside the lowercase alphabet, or -1.</summary>
    public static int FirstInvalid(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (!IsAlphabet(text[i]))
                return i;
        }
        return -1;
    }

    public static string Random(int byteCount) => Encode(RandomNumberGenerator.GetBytes(byteCount));
}
