using System.Text;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>Fresh random test strings; every test logs <see cref="Seed"/> in its failure messages.</summary>
public sealed class RandomText
{
    // Scalar ranges mixing the tokenizer's alphabet with text it can only spell as bytes: accents, Greek, Cyrillic,
    // CJK, emoji (4-byte UTF-8), plus newline and tab. U+2581 "▁" is left out: SentencePiece decodes it as a space.
    private static readonly (int First, int Last)[] UnicodeRanges =
        [(0x20, 0x7E), (0x20, 0x7E), (0xA1, 0x17F), (0x391, 0x3C9), (0x410, 0x44F), (0x4E00, 0x9FFF), (0x1F300, 0x1F64F), (0x1F900, 0x1F9FF), (0x0A, 0x0A), (0x09, 0x09)];

    public RandomText(int? seed = null)
    {
        Seed = seed ?? Random.Shared.Next();
        Random = new Random(Seed);
    }

    public int Seed { get; }
    public Random Random { get; }

    public string PrintableAscii(int maxLength)
    {
        var chars = new char[Random.Next(maxLength + 1)];
        for (int i = 0; i < chars.Length; i++) chars[i] = Random.Next(4) == 0 ? ' ' : (char)Random.Next(0x20, 0x7F);
        return new string(chars);
    }

    public string Unicode(int maxRunes)
    {
        var text = new StringBuilder();
        int count = Random.Next(maxRunes + 1);
        for (int i = 0; i < count; i++)
        {
            var (first, last) = UnicodeRanges[Random.Next(UnicodeRanges.Length)];
            text.Append(new Rune(Random.Next(first, last + 1)).ToString());
        }
        return text.ToString();
    }
}
