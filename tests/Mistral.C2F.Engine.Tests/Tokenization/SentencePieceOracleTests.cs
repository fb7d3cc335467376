using System.Diagnostics;
using System.Text.Json;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>
/// Encode equals SentencePiece's own ids. The committed fixtures (tools/tokenizer-oracle/sentencepiece_ids.py):
/// two BPE models trained as Mistral's was (byte fallback, split digits, whitespace-only pieces, identity
/// normalization, every space kept), the second with user-defined and control pieces, and SentencePiece's ids for
/// prose, code indented by 0 to 40 spaces and by tabs, runs of spaces of every length to 40, digits, mixed
/// scripts, emoji, control characters, empty and whitespace-only text, chat-template segments and a
/// 10,000-character text. Where python3 has the sentencepiece module (Debian's python3-sentencepiece),
/// SentencePiece is also asked live about fresh random text, on both models and on the built-in tokenizer.
/// </summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class SentencePieceOracleTests(TokenizerFixture fixture)
{
    private static readonly string OracleDirectory = Path.Combine(AppContext.BaseDirectory, "Tokenization", "SentencePieceOracle");
    private static readonly string OracleModel = Path.Combine(OracleDirectory, "oracle.model");

    [Fact]
    public void Encode_equals_sentencepiece_on_every_fixture_case_with_and_without_bos()
    {
        using var fixtures = JsonDocument.Parse(File.ReadAllText(Path.Combine(OracleDirectory, "cases.json")));
        var models = fixtures.RootElement.GetProperty("models").EnumerateArray().ToArray();
        Assert.Equal(["oracle.model", "oracle-symbols.model"], models.Select(m => m.GetProperty("model").GetString()));
        foreach (var model in models)
        {
            var tokenizer = MistralTokenizer.FromModelFile(Path.Combine(OracleDirectory, model.GetProperty("model").GetString()!));
            int count = 0;
            foreach (var @case in model.GetProperty("cases").EnumerateArray())
            {
                var text = @case.GetProperty("text").GetString()!;
                var expected = @case.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32()).ToArray();
                AssertSameIds(expected, tokenizer.Encode(text, addBos: false), tokenizer, text);
                Assert.Equal([tokenizer.BosId, .. expected], tokenizer.Encode(text, addBos: true));
                count++;
            }
            Assert.True(count > 250, $"only {count} fixture cases");
        }
    }

    [Fact]
    public void Encode_equals_live_sentencepiece_on_fresh_random_text()
    {
        var python = PythonWithSentencePiece(out var missing);
        if (python is null) Assert.Skip($"SentencePiece is not installed ({missing}); install python3-sentencepiece to ask it live");
        var random = new Random();
        var texts = Enumerable.Range(0, 400).Select(_ => RandomText(random)).ToArray();
        var symbolsModel = Path.Combine(OracleDirectory, "oracle-symbols.model");
        foreach (var (model, tokenizer) in new[]
                 {
                     (OracleModel, MistralTokenizer.FromModelFile(OracleModel)),
                     (symbolsModel, MistralTokenizer.FromModelFile(symbolsModel)),
                     (Path.Combine(fixture.Directory, MistralTokenizer.ModelFileName), fixture.Tokenizer),
                 })
        {
            var expected = SentencePieceIds(python, model, texts);
            for (int i = 0; i < texts.Length; i++) AssertSameIds(expected[i], tokenizer.Encode(texts[i], addBos: false), tokenizer, texts[i]);
        }
    }

    /// <summary>Words, runs of spaces and tabs, digits, other scripts, emoji and control characters, mixed at random.</summary>
    private static string RandomText(Random random)
    {
        string[] parts = ["the", "return", "x", "=", "(", ")", ":", ".", "42", "7", "é", "ж", "語", "😀", "\u00a0", "\t", "\n", "\x01", "▁", "<s>", "<tool>", "@@", "def ", "[INST]"];
        var text = new System.Text.StringBuilder();
        int length = random.Next(0, 24);
        for (int i = 0; i < length; i++)
            text.Append(random.Next(4) == 0 ? new string(' ', random.Next(1, 30)) : parts[random.Next(parts.Length)]);
        return text.ToString();
    }

    private static void AssertSameIds(int[] expected, int[] actual, MistralTokenizer tokenizer, string text)
    {
        if (expected.SequenceEqual(actual)) return;
        string Pieces(int[] ids) => string.Join(" ", ids.Select(tokenizer.IdToPiece));
        Assert.Fail($"text {JsonSerializer.Serialize(text)}:\n SentencePiece: {Pieces(expected)}\n ours:          {Pieces(actual)}");
    }

    private static string? PythonWithSentencePiece(out string missing)
    {
        missing = "no python3 imports sentencepiece";
        foreach (var python in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                using var probe = Process.Start(new ProcessStartInfo(python, ["-c", "import sentencepiece"]) { RedirectStandardError = true })!;
                probe.WaitForExit();
                if (probe.ExitCode == 0) return python;
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
        return null;
    }

    private static int[][] SentencePieceIds(string python, string model, string[] texts)
    {
        var input = Path.GetTempFileName();
        try
        {
            File.WriteAllText(input, JsonSerializer.Serialize(texts));
            var script = Path.Combine(OracleDirectory, "sentencepiece_ids.py");
            using var process = Process.Start(new ProcessStartInfo(python, [script, "encode", model, input])
                { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.True(process.ExitCode == 0, $"sentencepiece_ids.py failed: {error}");
            return JsonSerializer.Deserialize<int[][]>(output)!;
        }
        finally { File.Delete(input); }
    }
}
