using System.Text.Json.Nodes;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>Writes preference pairs as JSONL, one <c>{"prompt": …, "chosen": …, "rejected": …}</c> per line, atomically.</summary>
public static class PreferenceJsonlWriter
{
    public static void Write(string path, IEnumerable<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        AtomicFile.Write(path, stream =>
        {
            // UTF-8 without a byte-order mark; "\n" line ends on every platform, as the SFT files.
            using var writer = new StreamWriter(stream, leaveOpen: true);
            foreach (var pair in pairs) writer.Write(Format(pair) + "\n");
        });
    }

    public static string Format(PreferencePair pair) =>
        new JsonObject { ["prompt"] = pair.Prompt, ["chosen"] = pair.Chosen, ["rejected"] = pair.Rejected }
            .ToJsonString(SftJsonLine.FormatOptions);
}
