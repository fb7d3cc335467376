using System.Text.RegularExpressions;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>Reads the task's prompts and step-by-step answers back from their text, independently of the generator.</summary>
internal static partial class ChainArithmeticText
{
    /// <summary>The start value and the signed operands of "What is 7+5-3?", e.g. (7, [+5, -3]).</summary>
    public static (int Start, int[] Operands) ParsePrompt(string prompt)
    {
        var match = Prompt().Match(prompt);
        Assert.True(match.Success, $"not a chain-arithmetic prompt: {prompt}");
        var operands = match.Groups["op"].Captures.Zip(match.Groups["operand"].Captures)
            .Select(pair => (pair.First.Value == "+" ? 1 : -1) * int.Parse(pair.Second.Value)).ToArray();
        return (int.Parse(match.Groups["start"].Value), operands);
    }

    /// <summary>The answer by recomputation: the operations applied left to right.</summary>
    public static int Solve(string prompt)
    {
        var (start, operands) = ParsePrompt(prompt);
        return start + operands.Sum();
    }

    /// <summary>The written steps (left, signed operand, result) of "7+5=12. 12-3=9. The answer is 9." and the stated answer.</summary>
    public static ((int Left, int Operand, int Result)[] Steps, int Answer) ParseStepByStep(string response)
    {
        var match = StepByStep().Match(response);
        Assert.True(match.Success, $"not a step-by-step answer: {response}");
        var steps = Enumerable.Range(0, match.Groups["left"].Captures.Count).Select(i => (
            int.Parse(match.Groups["left"].Captures[i].Value),
            (match.Groups["op"].Captures[i].Value == "+" ? 1 : -1) * int.Parse(match.Groups["operand"].Captures[i].Value),
            int.Parse(match.Groups["result"].Captures[i].Value))).ToArray();
        return (steps, int.Parse(match.Groups["answer"].Value));
    }

    /// <summary>Checks a step-by-step answer step by step: it works the prompt's operations in order, every step right.</summary>
    public static void AssertWorkedCorrectly(string prompt, string stepByStep)
    {
        var (steps, stated) = ParseStepByStep(stepByStep);
        var (start, operands) = ParsePrompt(prompt);
        Assert.Equal(operands, steps.Select(step => step.Operand));
        int value = start;
        foreach (var (left, operand, result) in steps)
        {
            Assert.Equal(value, left);
            Assert.Equal(left + operand, result);
            value = result;
        }
        Assert.Equal(Solve(prompt), stated);
    }

    [GeneratedRegex(@"^What is (?<start>\d+)(?:(?<op>[+-])(?<operand>\d+))+\?$")]
    private static partial Regex Prompt();

    [GeneratedRegex(@"^(?:(?<left>\d+)(?<op>[+-])(?<operand>\d+)=(?<result>\d+)\. )+The answer is (?<answer>\d+)\.$")]
    private static partial Regex StepByStep();
}
