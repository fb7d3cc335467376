using Mistral.C2F.Engine.IO;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>Writes SFT examples as JSONL that <see cref="SftJsonlReader"/> reads back, atomically.</summary>
public static class SftJsonlWriter
{
    public static void Write(string path, IEnumerable<SftExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        AtomicFile.Write(path, stream =>
        {
            // UTF-8 without a byte-order mark; "\n" line ends on every platform.
            using var writer = new StreamWriter(stream, leaveOpen: true);
            foreach (var example in examples) writer.Write(SftJsonLine.Format(example) + "\n");
        });
    }
}
