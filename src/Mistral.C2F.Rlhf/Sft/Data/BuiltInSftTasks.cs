using Mistral.C2F.Engine.Determinism;
namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// The small analytical tasks of the built-in SFT data. Answers are bare and regular (a number, or items joined by
/// ", " or " ") so that a tiny model's loss falls clearly; everything is ASCII, which the built-in tokenizer covers.
/// The tokenizer splits digits (as Mistral's does), so a listed two-digit number costs four tokens ("▁", two digits,
/// ","): lists stay at four or five numbers to keep every example within 40 tokens.
/// </summary>
internal static class BuiltInSftTasks
{
    private static readonly string[] Words =
    [
        "cat", "dog", "sun", "map", "cup", "red", "box", "pen", "hat", "egg",
        "bird", "fish", "tree", "star", "book", "lamp", "door", "ship", "milk", "rain",
        "apple", "table", "river", "stone", "cloud", "green", "plant", "house", "bread", "light",
    ];

    public static IReadOnlyList<Func<SplitMix64, PromptResponseExample>> All { get; } =
        [Sort, Add, ReverseLetters, Count, Larger, Successor];

    /// <summary>"Sort 7, 3, 5." → "3, 5, 7": three or four numbers below 100, ascending.</summary>
    private static PromptResponseExample Sort(SplitMix64 random)
    {
        var numbers = Enumerable.Range(0, random.Next(3, 5)).Select(_ => random.Next(100)).ToArray();
        return new($"Sort {List(numbers)}.", List(numbers.Order()));
    }

    /// <summary>"Add 12 and 7." → "19": two numbers below 100.</summary>
    private static PromptResponseExample Add(SplitMix64 random)
    {
        var (a, b) = (random.Next(100), random.Next(100));
        return new($"Add {a} and {b}.", $"{a + b}");
    }

    /// <summary>"Reverse the letters of cat." → "t a c": spaced, so each letter is its own token.</summary>
    private static PromptResponseExample ReverseLetters(SplitMix64 random)
    {
        var word = random.Pick(Words);
        return new($"Reverse the letters of {word}.", string.Join(' ', word.Reverse()));
    }

    /// <summary>"Count from 4 to 8." → "4, 5, 6, 7, 8": three to five numbers below 100.</summary>
    private static PromptResponseExample Count(SplitMix64 random)
    {
        int start = random.Next(96), length = random.Next(3, 6);
        return new($"Count from {start} to {start + length - 1}.", List(Enumerable.Range(start, length)));
    }

    /// <summary>"Which is larger, 41 or 17?" → "41": two different numbers below 100.</summary>
    private static PromptResponseExample Larger(SplitMix64 random)
    {
        int a = random.Next(100), b = (a + random.Next(1, 100)) % 100;
        return new($"Which is larger, {a} or {b}?", $"{Math.Max(a, b)}");
    }

    /// <summary>"What comes after 41?" → "42": a number below 1000.</summary>
    private static PromptResponseExample Successor(SplitMix64 random)
    {
        int n = random.Next(1000);
        return new($"What comes after {n}?", $"{n + 1}");
    }

    private static string List(IEnumerable<int> numbers) => string.Join(", ", numbers);
}
