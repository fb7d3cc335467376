using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Hugging Face's <c>tokenizer.json</c> (the "fast" tokenizer) of a SentencePiece BPE vocabulary, read as the
/// SentencePiece model it was converted from: the vocabulary and added tokens give the pieces and their types, the
/// merges' order gives the pieces' scores (a piece scores minus the rank of the first merge that makes it, so the
/// encoder applies merges in the file's order), the normalizer or the Metaspace pre-tokenizer gives the dummy prefix.
/// Encoding it then follows SentencePiece's rules, so a checkpoint that ships only tokenizer.json gets the ids its
/// tokenizer.model would give. Anything that would tokenize otherwise (another model type, no byte fallback, a
/// pre-tokenizer that splits text) is refused with an error naming the file.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    public const string FileName = "tokenizer.json";

    private const string Boundary = "\u2581";

    /// <summary>The pieces and the dummy-prefix setting of a tokenizer.json's text; errors name <paramref name="path"/>.</summary>
    public static (IReadOnlyList<SentencePiece> Pieces, bool AddDummyPrefix) Read(string json, string path)
    {
        JsonNode root;
        try
        {
            root = JsonNode.Parse(json) ?? throw new JsonException("the file holds null");
        }
        catch (JsonException exception)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {exception.Message}", exception);
        }
        try
        {
            return Parse(root);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or KeyNotFoundException or ArgumentException)
        {
            throw new InvalidDataException($"{path}: {exception.Message}", exception);
        }
    }

    private static (IReadOnlyList<SentencePiece>, bool) Parse(JsonNode root)
    {
        var model = root["model"] ?? throw Unsupported("no \"model\"");
        var type = (string?)model["type"];
        if (type != "BPE") throw Unsupported($"model type \"{type}\"; only BPE (Mistral's, converted from SentencePiece) is read");
        if (model["byte_fallback"]?.GetValue<bool>() != true) throw Unsupported("\"byte_fallback\" is not true; Mistral tokenizers spell unknown characters as bytes");
        if (model["dropout"] is JsonValue dropout && dropout.GetValue<double>() != 0) throw Unsupported("BPE dropout (sampled tokenization)");
        foreach (var key in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model[key] is JsonValue affix && affix.GetValue<string>().Length > 0) throw Unsupported($"\"{key}\" (not SentencePiece's BPE)");

        var vocabulary = (model["vocab"] as JsonObject ?? throw Unsupported("\"model.vocab\" is not an object"))
            .ToDictionary(entry => entry.Key, entry => entry.Value!.GetValue<int>(), StringComparer.Ordinal);
        var added = (root["added_tokens"] as JsonArray ?? [])
            .Select(token => (Id: token!["id"]!.GetValue<int>(), Content: token["content"]!.GetValue<string>(), Special: token["special"]?.GetValue<bool>() ?? false))
            .ToList();
        var pieces = new string?[vocabulary.Values.Concat(added.Select(a => a.Id)).DefaultIfEmpty(-1).Max() + 1];
        foreach (var (piece, id) in vocabulary.Select(e => (e.Key, e.Value)).Concat(added.Select(a => (a.Content, a.Id))))
        {
            if (id < 0) throw Unsupported($"piece \"{piece}\" has the negative id {id}");
            if (pieces[id] is { } other && other != piece) throw Unsupported($"id {id} is both \"{other}\" and \"{piece}\"");
            pieces[id] = piece;
        }
        int gap = Array.IndexOf(pieces, null);
        if (gap >= 0) throw Unsupported($"no piece has id {gap}; ids must run from 0 to {pieces.Length - 1}");

        var scores = MergeScores(model["merges"] as JsonArray ?? throw Unsupported("\"model.merges\" is not a list"), vocabulary);
        var unknown = (string?)model["unk_token"];
        var types = added.ToDictionary(a => a.Id, a => a.Special ? SentencePieceType.Control : SentencePieceType.UserDefined);
        var result = new SentencePiece[pieces.Length];
        for (int id = 0; id < pieces.Length; id++)
        {
            var piece = pieces[id]!;
            var pieceType = piece == unknown ? SentencePieceType.Unknown
                : types.TryGetValue(id, out var addedType) ? addedType
                : SentencePieceText.TryParseBytePiece(piece, out _) ? SentencePieceType.Byte
                : SentencePieceType.Normal;
            result[id] = new SentencePiece(piece, scores.GetValueOrDefault(piece), pieceType);
        }
        return (result, DummyPrefix(root["normalizer"], root["pre_tokenizer"]));
    }

    /// <summary>Minus the rank of the first merge that makes each piece.</summary>
    private static Dictionary<string, float> MergeScores(JsonArray merges, Dictionary<string, int> vocabulary)
    {
        var scores = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            // "left right" (tokenizers before 0.20) or ["left", "right"].
            var (left, right) = merges[rank] switch
            {
                JsonArray pair when pair.Count == 2 => (pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()),
                JsonValue text when text.GetValue<string>().Split(' ') is [var l, var r] => (l, r),
                var other => throw Unsupported($"merge {rank} is {other?.ToJsonString()}, not a pair"),
            };
            var piece = left + right;
            if (!vocabulary.ContainsKey(piece)) throw Unsupported($"merge {rank} (\"{left}\" + \"{right}\") makes a piece outside the vocabulary");
            scores.TryAdd(piece, -rank);
        }
        return scores;
    }

    /// <summary>Whether a "▁" is put before the text: by a Prepend normalizer or a Metaspace pre-tokenizer.</summary>
    private static bool DummyPrefix(JsonNode? normalizer, JsonNode? preTokenizer)
    {
        bool prefix = false;
        foreach (var step in Steps(normalizer, "normalizers"))
            switch ((string?)step["type"])
            {
                case "Prepend" when (string?)step["prepend"] == Boundary: prefix = true; break;
                case "Replace" when IsSpaceEscape(step): break;
                default: throw Unsupported($"normalizer {step.ToJsonString()}; only SentencePiece's space escaping (Prepend \"▁\", Replace \" \" by \"▁\") is read");
            }
        foreach (var step in Steps(preTokenizer, "pretokenizers"))
        {
            if ((string?)step["type"] != "Metaspace" || (string?)step["replacement"] != Boundary)
                throw Unsupported($"pre-tokenizer {step.ToJsonString()}; only Metaspace with \"▁\" is read");
            if (step["split"]?.GetValue<bool>() == true) throw Unsupported("a Metaspace pre-tokenizer that splits the text at spaces (SentencePiece does not)");
            prefix |= (string?)step["prepend_scheme"] is "first" or "always" || step["add_prefix_space"]?.GetValue<bool>() == true;
        }
        return prefix;
    }

    private static bool IsSpaceEscape(JsonNode replace) => (string?)replace["pattern"]?["String"] == " " && (string?)replace["content"] == Boundary;

    private static IEnumerable<JsonNode> Steps(JsonNode? node, string listName) =>
        node is null ? [] : (string?)node["type"] == "Sequence" ? (node[listName] as JsonArray ?? []).OfType<JsonNode>() : [node];

    private static InvalidOperationException Unsupported(string what) => new($"unsupported tokenizer.json: {what}");

    /// <summary>
    /// A tokenizer.json for <paramref name="pieces"/>, as Hugging Face's converter writes one from a SentencePiece
    /// model: special pieces as added tokens, and every merge a → b + c where all three are pieces, ordered by the
    /// score of what they make, so reading it back gives the same encoding.
    /// </summary>
    public static string Write(IReadOnlyList<SentencePiece> pieces)
    {
        var vocabulary = new JsonObject();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < pieces.Count; id++)
        {
            vocabulary[pieces[id].Piece] = id;
            ids.TryAdd(pieces[id].Piece, id);
        }
        var merges = new JsonArray();
        foreach (var id in Enumerable.Range(0, pieces.Count).Where(id => pieces[id].Type == SentencePieceType.Normal)
                     .OrderByDescending(id => pieces[id].Score).ThenBy(id => id))
        {
            var piece = pieces[id].Piece;
            for (int split = 1; split < piece.Length; split++)
            {
                if (char.IsLowSurrogate(piece[split])) continue;
                var (left, right) = (piece[..split], piece[split..]);
                if (ids.TryGetValue(left, out var l) && ids.TryGetValue(right, out var r) && IsMergeSide(pieces[l].Type) && IsMergeSide(pieces[r].Type))
                    merges.Add(new JsonArray(left, right));
            }
        }
        var added = new JsonArray();
        for (int id = 0; id < pieces.Count; id++)
            if (pieces[id].Type is SentencePieceType.Control or SentencePieceType.Unknown or SentencePieceType.UserDefined)
                added.Add(new JsonObject
                {
                    ["id"] = id, ["content"] = pieces[id].Piece, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = pieces[id].Type == SentencePieceType.UserDefined, ["special"] = pieces[id].Type != SentencePieceType.UserDefined,
                });
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "Metaspace", ["replacement"] = Boundary, ["prepend_scheme"] = "first", ["split"] = false },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = pieces.FirstOrDefault(p => p.Type == SentencePieceType.Unknown).Piece,
                ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null, ["fuse_unk"] = true, ["byte_fallback"] = true,
                ["ignore_merges"] = false, ["vocab"] = vocabulary, ["merges"] = merges,
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    private static bool IsMergeSide(SentencePieceType type) => type is SentencePieceType.Normal or SentencePieceType.UserDefined;
}
