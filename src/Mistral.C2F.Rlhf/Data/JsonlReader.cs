using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Data;

/// <summary>
/// Reads JSONL: one record per line, blank lines skipped. Any problem is an <see cref="InvalidDataException"/> naming
/// the file, the line number and the problem; the line parser reports problems as <see cref="FormatException"/>.
/// </summary>
public static class JsonlReader
{
    /// <param name="what">What the file holds, for messages ("SFT data", "preference data").</param>
    /// <param name="parse">Parses one non-blank line; <c>check</c> sees each record with its line number and the records before it.</param>
    public static IReadOnlyList<T> Read<T>(string path, string what, Func<string, T> parse, Action<T, int, IReadOnlyList<T>>? check = null)
    {
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath)) throw new FileNotFoundException($"{what} file '{fullPath}' does not exist.", fullPath);
        ModelFiles.RequireRegularFile(fullPath);
        var records = new List<T>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(fullPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                // The reader decodes invalid UTF-8 (a Latin-1 file, say) to U+FFFD; fail on that line instead of training on it.
                if (line.Contains('\uFFFD')) throw new FormatException("invalid UTF-8 (or a U+FFFD replacement character)");
                var record = parse(line);
                check?.Invoke(record, lineNumber, records);
                records.Add(record);
            }
            catch (FormatException exception)
            {
                throw new InvalidDataException($"{fullPath}, line {lineNumber}: {exception.Message}", exception);
            }
        }
        if (records.Count == 0) throw new InvalidDataException($"{what} file '{fullPath}' holds no examples.");
        return records;
    }
}
