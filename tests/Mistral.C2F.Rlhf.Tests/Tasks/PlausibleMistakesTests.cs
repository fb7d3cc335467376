using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>Wrong solutions: always wrong, in range, and wrong in exactly the way their kind says.</summary>
[Trait("Backend", "cpu")]
public sealed class PlausibleMistakesTests
{
    private static readonly IReadOnlyList<ChainArithmeticProblem> Problems = ChainArithmeticTask.Distinct(500, seed: 21);

    [Theory]
    [InlineData(MistakeKind.FinalOffBySmall)]
    [InlineData(MistakeKind.IntermediateSlipCarried)]
    [InlineData(MistakeKind.OperatorMisread)]
    public void Every_wrong_solution_ends_at_a_wrong_answer_with_one_slip_carried_through(MistakeKind kind)
    {
        var random = new SplitMix64(3);
        var made = Problems.Select(problem => (Problem: problem, Wrong: PlausibleMistakes.Make(problem, kind, random))).ToArray();

        // Most problems admit every kind; a misread that would go below zero or a slip that cannot stay in range has none.
        Assert.True(made.Count(pair => pair.Wrong is not null) > Problems.Count * 3 / 4);
        Assert.All(made.Where(pair => pair.Wrong is not null), pair =>
        {
            var (problem, wrong) = (pair.Problem, pair.Wrong!);
            Assert.NotEqual(problem.Answer, wrong.FinalAnswer);
            Assert.False(AnswerChecker.IsCorrect(wrong.Concise, problem.Answer));
            Assert.False(AnswerChecker.IsCorrect(wrong.StepByStep, problem.Answer));
            Assert.All(wrong.Values, value => Assert.InRange(value, 0, ChainArithmeticTask.MaxValue));

            var (steps, stated) = ChainArithmeticText.ParseStepByStep(wrong.StepByStep);
            Assert.Equal(wrong.FinalAnswer, stated);
            var (_, operands) = ChainArithmeticText.ParsePrompt(problem.Prompt);
            // The steps that are not what the problem asks: a wrong result, or a flipped operator.
            var wrongSteps = Enumerable.Range(0, steps.Length)
                .Where(i => steps[i].Left + steps[i].Operand != steps[i].Result || steps[i].Operand != operands[i]).ToArray();
            int slipped = Assert.Single(wrongSteps);
            var step = steps[slipped];
            switch (kind)
            {
                case MistakeKind.FinalOffBySmall:
                    Assert.Equal(steps.Length - 1, slipped);
                    Assert.InRange(Math.Abs(step.Result - (step.Left + step.Operand)), 1, 3);
                    break;
                case MistakeKind.IntermediateSlipCarried:
                    Assert.True(slipped < steps.Length - 1);
                    Assert.InRange(Math.Abs(step.Result - (step.Left + step.Operand)), 1, 3);
                    break;
                case MistakeKind.OperatorMisread:
                    Assert.Equal(-operands[slipped], step.Operand);
                    Assert.Equal(step.Left + step.Operand, step.Result);
                    break;
            }
        });
    }

    [Fact]
    public void A_wrong_solution_of_a_random_kind_exists_for_every_problem()
    {
        var random = new SplitMix64(4);
        var pairs = Problems.Select(problem => (Problem: problem, Wrong: PlausibleMistakes.Make(problem, random))).ToArray();

        Assert.All(pairs, pair => Assert.NotEqual(pair.Problem.Answer, pair.Wrong.FinalAnswer));
        int misread = pairs.Count(pair => !pair.Wrong.Steps.Select(s => s.Operator).SequenceEqual(pair.Problem.Steps.Select(s => s.Operator)));
        int slippedEarly = pairs.Count(pair => pair.Wrong.Steps[^1].Left != pair.Problem.Solution.Steps[^1].Left);
        int offAtTheEnd = pairs.Length - slippedEarly;
        // Roughly a third each (a misread of the last step counts as ending off, not as slipping early).
        Assert.All(new[] { misread, slippedEarly, offAtTheEnd }, count => Assert.InRange(count, pairs.Length / 5, pairs.Length * 3 / 4));
    }

    [Fact]
    public void A_one_step_problem_has_no_earlier_step_to_slip()
    {
        var problem = new ChainArithmeticProblem(4, [new(ChainOperator.Add, 3)]);

        Assert.Null(PlausibleMistakes.Make(problem, MistakeKind.IntermediateSlipCarried, new SplitMix64(1)));
        Assert.Equal("4-3=1. The answer is 1.", PlausibleMistakes.Make(problem, MistakeKind.OperatorMisread, new SplitMix64(1))!.StepByStep);
    }
}
