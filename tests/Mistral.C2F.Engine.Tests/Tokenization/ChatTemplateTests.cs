using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Tokenization;

/// <summary>The Mistral-Instruct template: BOS once, EOS after each answer, system joined to the first user turn, alternation enforced.</summary>
[Trait("Backend", "cpu")]
[Collection(TokenizerCollection.Name)]
public sealed class ChatTemplateTests(TokenizerFixture fixture)
{
    private readonly MistralTokenizer _tokenizer = fixture.Tokenizer;
    private readonly ChatTemplate _template = new(fixture.Tokenizer);

    private static readonly ChatMessage[] TwoTurns =
    [
        new(ChatRole.System, "Answer with one number."),
        new(ChatRole.User, "What is 2 plus 3?"),
        new(ChatRole.Assistant, "5"),
        new(ChatRole.User, "And 4 plus 4?"),
        new(ChatRole.Assistant, "The answer is 8."),
    ];

    [Fact]
    public void Two_turn_conversation_renders_the_expected_text()
    {
        Assert.Equal(
            "<s>[INST] Answer with one number.\n\nWhat is 2 plus 3? [/INST] 5</s>[INST] And 4 plus 4? [/INST] The answer is 8.</s>",
            ChatTemplate.RenderText(TwoTurns));
        Assert.Equal("<s>[INST] Hi [/INST]", ChatTemplate.RenderText([new(ChatRole.User, "Hi")]));
    }

    [Fact]
    public void Two_turn_conversation_renders_the_expected_ids_and_assistant_mask()
    {
        int[] Text(string text) => _tokenizer.Encode(text, addBos: false);
        var firstInstruction = Text("[INST] Answer with one number.\n\nWhat is 2 plus 3? [/INST]");
        var firstAnswer = Text("5");
        var secondInstruction = Text("[INST] And 4 plus 4? [/INST]");
        var secondAnswer = Text("The answer is 8.");
        int[] expected = [1, .. firstInstruction, .. firstAnswer, 2, .. secondInstruction, .. secondAnswer, 2];

        var rendered = _template.RenderWithMask(TwoTurns);
        Assert.Equal(expected, rendered.Ids);
        Assert.Equal(expected, _template.Render(TwoTurns));
        bool[] expectedMask =
        [
            false, .. firstInstruction.Select(_ => false), .. firstAnswer.Select(_ => true), true,
            .. secondInstruction.Select(_ => false), .. secondAnswer.Select(_ => true), true,
        ];
        Assert.Equal(expectedMask, rendered.AssistantMask);

        // The pieces Mistral's own tokenizer gives: "▁[" "INST" "]" opens each instruction, answers start with "▁".
        Assert.Equal(["▁[", "INST", "]"], firstInstruction.Take(3).Select(_tokenizer.IdToPiece));
        Assert.Equal(["▁", "5"], firstAnswer.Select(_tokenizer.IdToPiece));
        Assert.Equal("5 The answer is 8.", _tokenizer.Decode(rendered.Ids.Where((_, i) => rendered.AssistantMask[i])));
        Assert.Equal("[INST] Answer with one number.\n\nWhat is 2 plus 3? [/INST] 5 [INST] And 4 plus 4? [/INST] The answer is 8.",
            _tokenizer.Decode(rendered.Ids));
    }

    [Fact]
    public void Bos_and_eos_are_special_ids_even_when_messages_contain_their_text()
    {
        var ids = _template.Render([new(ChatRole.User, "Say <s> and </s>"), new(ChatRole.Assistant, "<s></s>"), new(ChatRole.User, "Again")]);
        Assert.Equal(1, ids.Count(id => id == _tokenizer.BosId));
        Assert.Equal(0, Array.IndexOf(ids, _tokenizer.BosId));
        Assert.Equal(1, ids.Count(id => id == _tokenizer.EosId));
        Assert.Equal("[INST] Say <s> and </s> [/INST] <s></s> [INST] Again [/INST]", _tokenizer.Decode(ids));
    }

    [Theory]
    [InlineData("")]
    [InlineData("System")]
    [InlineData("Assistant")]
    [InlineData("System Assistant")]
    [InlineData("User User")]
    [InlineData("User Assistant Assistant")]
    [InlineData("User System")]
    [InlineData("System System User")]
    public void Roles_that_do_not_alternate_are_rejected(string roles)
    {
        var messages = roles.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(role => new ChatMessage(Enum.Parse<ChatRole>(role), "text")).ToArray();
        var error = Assert.Throws<ArgumentException>(() => _template.Render(messages));
        Assert.Matches("alternate|at least one user message", error.Message);
        Assert.Throws<ArgumentException>(() => ChatTemplate.RenderText(messages));
    }

    /// <summary>
    /// A vocabulary with [INST] and [/INST] as control pieces (the SentencePiece oracle trained with them, as Mistral's v3
    /// tokenizer has them) renders mistral-common's v2/v3 format: the control ids around each encoded user message,
    /// the system message joined to the last user message, the loss mask on each answer and its EOS. The built-in
    /// vocabulary has no such pieces and keeps v1's text.
    /// </summary>
    [Fact]
    public void A_vocabulary_with_control_inst_pieces_renders_the_v3_format_with_their_ids()
    {
        var model = Path.Combine(AppContext.BaseDirectory, "Tokenization", "SentencePieceOracle", "oracle-symbols.model");
        var tokenizer = MistralTokenizer.FromModelFile(model);
        int begin = tokenizer.ControlId("[INST]") ?? throw new InvalidOperationException("the oracle has no control [INST]");
        int end = tokenizer.ControlId("[/INST]") ?? throw new InvalidOperationException("the oracle has no control [/INST]");
        var (ids, mask) = (new List<int> { tokenizer.BosId }, new List<bool> { false });
        void Add(bool answer, params int[] part) { ids.AddRange(part); mask.AddRange(part.Select(_ => answer)); }
        int[] Encode(string text) => tokenizer.Encode(text, addBos: false);
        Add(false, [begin, .. Encode("What is 2 plus 3?"), end]);
        Add(true, [.. Encode("5"), tokenizer.EosId]);
        Add(false, [begin, .. Encode("Answer with one number.\n\nAnd 4 plus 4?"), end]);
        Add(true, [.. Encode("The answer is 8."), tokenizer.EosId]);

        var rendered = new ChatTemplate(tokenizer).RenderWithMask(TwoTurns);
        Assert.Equal(ids, rendered.Ids);
        Assert.Equal(mask, rendered.AssistantMask);
        Assert.Null(_tokenizer.ControlId("[INST]"));
        Assert.Null(tokenizer.ControlId("<tool>"));  // user-defined, not control
    }
}
