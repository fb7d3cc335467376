namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Reads SFT data as JSONL: one JSON object per line, every line in the same format, blank lines skipped. Any problem
/// is an <see cref="InvalidDataException"/> naming the file, the line number and the problem.
/// </summary>
public static class SftJsonlReader
{
    public static IReadOnlyList<SftExample> Read(string path)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"SFT data file '{fullPath}' does not exist.", fullPath);

        var examples = new List<SftExample>();
        int firstExampleLine = 0, lineNumber = 0;
        foreach (var line in File.ReadLines(fullPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            // The reader decodes invalid UTF-8 (a Latin-1 file, say) to U+FFFD; fail on that line instead of training on it.
            if (line.Contains('\uFFFD'))
                throw Error(fullPath, lineNumber, "invalid UTF-8 (or a U+FFFD replacement character)");
            SftExample example;
            try
            {
                example = SftJsonLine.Parse(line);
            }
            catch (FormatException exception)
            {
                throw Error(fullPath, lineNumber, exception.Message, exception);
            }
            if (examples.Count == 0) firstExampleLine = lineNumber;
            else if (example.GetType() != examples[0].GetType())
                throw Error(fullPath, lineNumber,
                    $"the {SftJsonLine.FormatName(example)} format, but line {firstExampleLine} is in the " +
                    $"{SftJsonLine.FormatName(examples[0])} format; a file holds one format");
            examples.Add(example);
        }
        if (examples.Count == 0) throw new InvalidDataException($"SFT data file '{fullPath}' holds no examples.");
        return examples;
    }

    private static InvalidDataException Error(string path, int lineNumber, string problem, Exception? inner = null) =>
        new($"{path}, line {lineNumber}: {problem}", inner);
}
