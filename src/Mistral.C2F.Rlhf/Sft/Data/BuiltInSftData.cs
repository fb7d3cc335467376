using Mistral.C2F.Engine.Determinism;
namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Offline SFT data for the tiny preset: prompt/response pairs of small analytical tasks (<see cref="BuiltInSftTasks"/>)
/// that a tiny model learns on two CPU cores within minutes. The tasks take turns, so each is an equal share; the
/// numbers and words are drawn from the seed, so the same seed always gives the same examples.
/// </summary>
public static class BuiltInSftData
{
    public const int DefaultCount = 4096;
    public const int DefaultSeed = 0x5F7;
    public const string DefaultFileName = "sft-builtin.jsonl";

    public static IReadOnlyList<PromptResponseExample> Generate(int count = DefaultCount, int seed = DefaultSeed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new SplitMix64((ulong)(uint)seed);
        var tasks = BuiltInSftTasks.All;
        return Enumerable.Range(0, count).Select(i => tasks[i % tasks.Count](random)).ToArray();
    }

    /// <summary>Writes the examples as prompt/response JSONL (atomically), for people to read or edit and to train on.</summary>
    public static void Write(string path, int count = DefaultCount, int seed = DefaultSeed) =>
        SftJsonlWriter.Write(path, Generate(count, seed));
}
