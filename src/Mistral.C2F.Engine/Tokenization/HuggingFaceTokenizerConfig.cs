using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The JSON files Hugging Face reads next to <c>tokenizer.model</c>: <c>tokenizer_config.json</c> (a slow
/// LlamaTokenizer in legacy mode, BOS added, the Mistral-Instruct chat template) and <c>special_tokens_map.json</c>.
/// </summary>
internal static class HuggingFaceTokenizerConfig
{
    public const string ConfigFileName = "tokenizer_config.json";
    public const string SpecialTokensMapFileName = "special_tokens_map.json";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keeps "<s>" and the template readable
    };

    public static string TokenizerConfigJson()
    {
        var addedTokens = new JsonObject();
        foreach (var (id, content) in SpecialPieces()) addedTokens[id.ToString()] = AddedToken(content, special: true);
        return new JsonObject
        {
            ["add_bos_token"] = true,
            ["add_eos_token"] = false,
            ["added_tokens_decoder"] = addedTokens,
            ["bos_token"] = SpecialTokens.BeginOfSequence,
            ["chat_template"] = ChatTemplate.HuggingFaceTemplate,
            ["clean_up_tokenization_spaces"] = false,
            ["eos_token"] = SpecialTokens.EndOfSequence,
            // Legacy mode encodes the text after each special token with its own dummy prefix, as ChatTemplate does.
            ["legacy"] = true,
            ["pad_token"] = null,
            ["sp_model_kwargs"] = new JsonObject(),
            ["spaces_between_special_tokens"] = false,
            ["tokenizer_class"] = "LlamaTokenizer",
            ["unk_token"] = SpecialTokens.Unknown,
            ["use_default_system_prompt"] = false,
        }.ToJsonString(Indented) + "\n";
    }

    public static string SpecialTokensMapJson() =>
        new JsonObject
        {
            ["bos_token"] = AddedToken(SpecialTokens.BeginOfSequence),
            ["eos_token"] = AddedToken(SpecialTokens.EndOfSequence),
            ["unk_token"] = AddedToken(SpecialTokens.Unknown),
        }.ToJsonString(Indented) + "\n";

    private static (int Id, string Content)[] SpecialPieces() =>
    [
        (SpecialTokens.UnknownId, SpecialTokens.Unknown),
        (SpecialTokens.BeginOfSequenceId, SpecialTokens.BeginOfSequence),
        (SpecialTokens.EndOfSequenceId, SpecialTokens.EndOfSequence),
    ];

    private static JsonObject AddedToken(string content, bool? special = null)
    {
        var token = new JsonObject
        {
            ["content"] = content,
            ["lstrip"] = false,
            ["normalized"] = false,
            ["rstrip"] = false,
            ["single_word"] = false,
        };
        if (special is { } isSpecial) token["special"] = isSpecial;
        return token;
    }
}
