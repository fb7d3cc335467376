using System.Text.Json.Nodes;
using Mistral.C2F.Engine.IO;
using Mistral.C2F.Rlhf.Data;

namespace Mistral.C2F.Rlhf.RewardModel.Data;

/// <summary>Preference data as JSONL: <c>{"prompt": …, "chosen": …, "rejected": …, "margin": …?}</c> per line.</summary>
public static class PreferenceJsonl
{
    public static IReadOnlyList<PreferencePair> Read(string path) => JsonlReader.Read(path, "preference data", Parse);

    public static void Write(string path, IEnumerable<PreferencePair> pairs) => AtomicFile.Write(path, stream =>
    {
        using var writer = new StreamWriter(stream, leaveOpen: true);
        foreach (var pair in pairs) writer.Write(Format(pair) + "\n");
    });

    public static PreferencePair Parse(string line)
    {
        using var document = JsonFields.ParseObject(line);
        var root = document.RootElement;
        var pair = new PreferencePair(JsonFields.RequiredContent(root, "prompt", "prompt"), JsonFields.RequiredContent(root, "chosen", "chosen"),
            JsonFields.RequiredContent(root, "rejected", "rejected"), JsonFields.OptionalNumber(root, "margin", 0));
        if (pair.Chosen == pair.Rejected) throw new FormatException("\"chosen\" and \"rejected\" are the same response: nothing to learn");
        return pair;
    }

    public static string Format(PreferencePair pair)
    {
        var json = new JsonObject { ["prompt"] = pair.Prompt, ["chosen"] = pair.Chosen, ["rejected"] = pair.Rejected };
        if (pair.Margin != 0) json["margin"] = pair.Margin;
        return json.ToJsonString(JsonFields.WriteOptions);
    }
}
