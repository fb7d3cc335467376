using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Reads SFT data as JSONL: one JSON object per line, every line in the same format, blank lines skipped. Any problem
/// is an <see cref="InvalidDataException"/> naming the file, the line number and the problem.
/// </summary>
public static class SftJsonlReader
{
    public static IReadOnlyList<SftExample> Read(string path)
    {
        int firstLine = 0;
        return JsonlReader.Read(path, "SFT data", SftJsonLine.Parse, (example, line, before) =>
        {
            if (before.Count == 0) firstLine = line;
            else if (example.GetType() != before[0].GetType())
                throw new FormatException($"the {SftJsonLine.FormatName(example)} format, but line {firstLine} is in the " +
                    $"{SftJsonLine.FormatName(before[0])} format; a file holds one format");
        });
    }
}
