using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>
/// Careful writers take each right tens crossing through the round ten (<see cref="CrossingSplit"/>): longer answers made
/// of useful, right steps, which the redundancy metric must not count as idle, in the pretraining text and the preference
/// pairs only when <see cref="ChainArithmeticDataOptions.SplitCrossingShare"/> asks for them.
/// </summary>
[Trait("Backend", "cpu")]
public sealed partial class CrossingSplitTests
{
    [Theory]
    [InlineData(17, "+", 5, 22, new[] { "17+3=20", "20+2=22" })]
    [InlineData(23, "-", 5, 18, new[] { "23-3=20", "20-2=18" })]
    [InlineData(8, "+", 9, 17, new[] { "8+2=10", "10+7=17" })]
    [InlineData(4, "-", 6, -2, new[] { "4-4=0", "0-2=-2" })]
    [InlineData(17, "+", 3, 20, new[] { "17+3=20" })]     // lands on the ten: nothing to split
    [InlineData(20, "-", 5, 15, new[] { "20-5=15" })]     // starts on the ten
    [InlineData(12, "+", 3, 15, new[] { "12+3=15" })]     // crosses nothing
    [InlineData(17, "+", 5, 12, new[] { "17+5=12" })]     // a forgotten carry is written as it is
    public void A_right_crossing_goes_through_the_round_ten_and_any_other_step_is_written_as_it_is(int left, string op, int operand, int result, string[] expected)
    {
        var step = new SolutionStep(left, op == "+" ? ChainOperator.Add : ChainOperator.Subtract, operand, result);
        Assert.Equal(expected, CrossingSplit.Equations(step));
        Assert.Equal(string.Join(". ", expected), CrossingSplit.Write(step, split: true));
        Assert.Equal(step.ToString(), CrossingSplit.Write(step, split: false));
        Assert.Equal(expected[^1], CrossingSplit.LastEquation(step, split: true));
    }

    [Fact]
    public void Every_split_of_every_step_in_range_is_right_and_leads_from_the_step_s_left_side_to_its_result()
    {
        int splits = 0;
        for (int left = 0; left <= ChainArithmeticTask.MaxValue; left++)
            foreach (var op in new[] { ChainOperator.Add, ChainOperator.Subtract })
                for (int operand = ChainArithmeticTask.MinOperand; operand <= ChainArithmeticTask.MaxOperand; operand++)
                {
                    var equations = CrossingSplit.Equations(new SolutionStep(left, op, operand, op.Apply(left, operand)));
                    Assert.All(equations, equation => Assert.True(IsRight(equation), $"{equation} (from {left}{op.Symbol()}{operand})"));
                    if (equations.Count == 1) continue;
                    splits++;
                    var parts = equations.Select(e => Equation().Match(e).Groups).ToArray();
                    Assert.Equal(2, parts.Length);
                    Assert.Equal(left, int.Parse(parts[0][1].Value));                                        // from the step's left side
                    Assert.Equal(0, int.Parse(parts[0][4].Value) % 10);                                      // to the round ten
                    Assert.Equal(parts[0][4].Value, parts[1][1].Value);                                      // on from it
                    Assert.Equal(op.Apply(left, operand), int.Parse(parts[1][4].Value));                     // to the step's result
                    Assert.Equal(operand, int.Parse(parts[0][3].Value) + int.Parse(parts[1][3].Value));      // with the operand split
                    Assert.All(parts, p => Assert.Equal(op.Symbol(), p[2].Value));
                }
        // Units u of the left side: an addition splits for the u − 1 operands that pass the ten, a subtraction for the 9 − u
        // that go below it (u = 0 starts on the ten): 36 + 36 in each of the ten decades.
        Assert.Equal(720, splits);
    }

    [Fact]
    public void Split_steps_are_work_not_redundancy_and_a_check_or_a_repeat_of_them_is_idle()
    {
        var problem = new ChainArithmeticProblem(17, [new(ChainOperator.Add, 5), new(ChainOperator.Subtract, 1)]);
        string compact = problem.Solution.Written(splitCrossings: true);
        Assert.Equal("17+3=20. 20+2=22. 22-1=21. The answer is 21.", compact);
        Assert.Equal(new RepeatCount(0, 4), IdleSentences.Count(compact));

        var plan = RedundancyPlan.Of([RedundancyKind.CheckedStep, RedundancyKind.RepeatedStep], problem.Steps.Count, new SplitMix64(3));
        string redundant = plan.Write(problem, problem.Solution, splitCrossings: true);
        int repeatedSentences = plan.RepeatedStep == 0 ? 2 : 1;
        Assert.Equal(new RepeatCount(1 + repeatedSentences, 5 + repeatedSentences), IdleSentences.Count(redundant));
        Assert.EndsWith("Check: 22-1=21. The answer is 21.", redundant);
        Assert.Equal(problem.Solution.StepByStep, problem.Solution.Written(splitCrossings: false));
    }

    [Fact]
    public void Careful_writers_write_their_share_of_the_worked_pretraining_text_every_one_right_and_the_pairs_split_both_sides()
    {
        var options = new ChainArithmeticDataOptions
        {
            PretrainingCount = 4000, SftCount = 100, PreferenceProblemCount = 600, PairsPerPreferenceProblem = 3, PpoPromptCount = 50, ValidationCount = 20,
            ValidationPreferenceCount = 20, EvaluationCount = 20, HeldOutPreferenceCount = 20, HeldOutTextCount = 20, SplitCrossingShare = 0.25,
        };
        var data = ChainArithmeticDatasets.Build(options);

        var worked = data.Pretraining.Select(e => e.Text).Where(t => t.StartsWith("What is ", StringComparison.Ordinal) && t.Contains('=')).ToList();
        var careful = worked.Where(text => IsSplit(text[..(text.IndexOf('?') + 1)], text)).ToList();
        // A careful text on a problem without a splittable crossing reads like any right text, so the share seen is lower.
        Assert.InRange(careful.Count / (double)worked.Count, 0.12, 0.25);
        Assert.All(careful, text => Assert.True(Equation().Matches(text).All(m => IsRight(m.Value)), text));

        var split = data.Preferences.Where(p => IsSplit(p.Pair.Prompt, p.Pair.Chosen)).ToList();
        Assert.InRange(split.Count / (double)data.Preferences.Count, 0.12, 0.25);
        Assert.All(split, p => Assert.True(Equation().Matches(p.Pair.Chosen).All(m => IsRight(m.Value)), p.Pair.Chosen));
        // The rejected side of a split pair splits the crossings it works right, and never is the only side that splits.
        Assert.Contains(split, p => IsSplit(p.Pair.Prompt, p.Pair.Rejected) && !Equation().Matches(p.Pair.Rejected).All(m => IsRight(m.Value)));
        Assert.DoesNotContain(data.Preferences, p => IsSplit(p.Pair.Prompt, p.Pair.Rejected) && !IsSplit(p.Pair.Prompt, p.Pair.Chosen));
        Assert.Contains(split, p => p.Rejected == RejectedKind.CutOff);
    }

    [Fact]
    public void Without_careful_writers_no_text_or_pair_splits()
    {
        var data = ChainArithmeticDatasets.Build(new ChainArithmeticDataOptions
        {
            PretrainingCount = 2000, SftCount = 100, PreferenceProblemCount = 300, PpoPromptCount = 50, ValidationCount = 20, ValidationPreferenceCount = 20,
            EvaluationCount = 20, HeldOutPreferenceCount = 20, HeldOutTextCount = 20,
        });
        Assert.DoesNotContain(data.Pretraining, e => e.Text.StartsWith("What is ", StringComparison.Ordinal) && IsSplit(e.Text[..(e.Text.IndexOf('?') + 1)], e.Text));
        Assert.DoesNotContain(data.Preferences.Concat(data.HeldOutPreferences),
            p => IsSplit(p.Pair.Prompt, p.Pair.Chosen) || IsSplit(p.Pair.Prompt, p.Pair.Rejected));
    }

    /// <summary>
    /// Whether the text writes one of the prompt's right crossings through the round ten: "17+3=20. 20+2=22." for 17+5
    /// (a chain of the problem's own steps could read so only if the problem were 17+3+2, and then 17+5 is not its step).
    /// </summary>
    private static bool IsSplit(string prompt, string text)
    {
        var (start, operands) = ChainArithmeticText.ParsePrompt(prompt);
        var problem = new ChainArithmeticProblem(start, [.. operands.Select(o => new ChainStep(o > 0 ? ChainOperator.Add : ChainOperator.Subtract, Math.Abs(o)))]);
        return problem.Solution.Steps.Select(step => CrossingSplit.Equations(step)).Any(equations =>
            equations.Count == 2 && text.Contains(string.Join(". ", equations) + ".", StringComparison.Ordinal));
    }

    private static bool IsRight(string equation)
    {
        var parts = Equation().Match(equation).Groups;
        int left = int.Parse(parts[1].Value), operand = int.Parse(parts[3].Value), result = int.Parse(parts[4].Value);
        return (parts[2].Value == "+" ? left + operand : left - operand) == result;
    }

    [GeneratedRegex(@"(?<![\d=])(-?\d+)([+-])(\d+)=(-?\d+)")]
    private static partial Regex Equation();
}
