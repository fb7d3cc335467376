using Mistral.C2F.Engine.Diagnostics;

namespace Mistral.C2F.Rlhf.Sft.Data;

/// <summary>
/// Keeps the examples a packed sequence can hold. A prompt–response or conversation example longer than a sequence
/// would be split across two and train its response without its prompt, so it is dropped, with a warning that counts
/// them; a text example is kept whatever its length (packing splits it, as language modelling does). Data left with no
/// token to learn from is an error, not a run of skipped steps.
/// </summary>
public static class SftExampleFilter
{
    public static List<TokenizedExample> Fitting(IEnumerable<(SftExample Example, TokenizedExample Tokens)> examples, int sequenceLength, string source)
    {
        var kept = new List<TokenizedExample>();
        int total = 0, dropped = 0, longest = 0;
        foreach (var (example, tokens) in examples)
        {
            total++;
            // A sequence holds sequenceLength inputs and their next tokens: an example of sequenceLength + 1 tokens fits.
            if (example is not TextExample && tokens.Ids.Length > sequenceLength + 1)
            {
                (dropped, longest) = (dropped + 1, Math.Max(longest, tokens.Ids.Length));
                continue;
            }
            kept.Add(tokens);
        }
        if (total == 0) throw new InvalidDataException($"{source}: no examples");
        if (dropped > 0)
            Warnings.Report($"{source}: dropped {dropped} of {total} examples longer than the sequence length {sequenceLength} " +
                $"(the longest has {longest} tokens): their responses would be trained without their prompts; raise --seq to keep them");
        if (!kept.Any(example => example.LossMask.Contains(true)))
            throw new InvalidDataException($"{source}: no example left with a token to learn from ({dropped} of {total} dropped as longer than " +
                $"the sequence length {sequenceLength}); raise --seq");
        return kept;
    }
}
