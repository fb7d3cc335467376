using Mistral.C2F.Rlhf.Tasks;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>The problem generator: deterministic by seed, in range, and every answer right by recomputation.</summary>
[Trait("Backend", "cpu")]
public sealed class ChainArithmeticTaskTests
{
    private static readonly IReadOnlyList<ChainArithmeticProblem> Problems = ChainArithmeticTask.Distinct(2000, seed: 11);

    [Fact]
    public void The_same_seed_gives_the_same_problems_and_another_seed_other_ones()
    {
        Assert.Equal(Problems.Select(p => p.Prompt), ChainArithmeticTask.Distinct(2000, seed: 11).Select(p => p.Prompt));
        Assert.Equal(Problems.Take(50).Select(p => p.Prompt), ChainArithmeticTask.Distinct(50, seed: 11).Select(p => p.Prompt));
        var other = ChainArithmeticTask.Distinct(2000, seed: 12);
        Assert.True(Problems.Zip(other).Count(pair => pair.First.Prompt == pair.Second.Prompt) < 20);
    }

    [Fact]
    public void Problems_are_distinct_with_two_to_four_operations_on_small_numbers()
    {
        Assert.Equal(Problems.Count, Problems.Select(p => p.Prompt).Distinct().Count());
        Assert.All(Problems, problem =>
        {
            var (start, operands) = ChainArithmeticText.ParsePrompt(problem.Prompt);
            Assert.InRange(start, 0, ChainArithmeticTask.MaxStart);
            Assert.InRange(operands.Length, ChainArithmeticTask.MinOperations, ChainArithmeticTask.MaxOperations);
            Assert.All(operands, operand => Assert.InRange(Math.Abs(operand), ChainArithmeticTask.MinOperand, ChainArithmeticTask.MaxOperand));
        });
        // Every operation count and both operators occur.
        Assert.Equal([2, 3, 4], Problems.Select(p => p.Steps.Count).Distinct().Order());
        Assert.Equal(Enum.GetValues<ChainOperator>(), Problems.SelectMany(p => p.Steps).Select(s => s.Operator).Distinct().Order());
    }

    [Fact]
    public void Every_concise_and_step_by_step_answer_is_correct_by_recomputation()
    {
        Assert.All(Problems, problem =>
        {
            int answer = ChainArithmeticText.Solve(problem.Prompt);
            Assert.Equal(answer, problem.Answer);
            Assert.Equal(answer.ToString(), problem.Solution.Concise);

            ChainArithmeticText.AssertWorkedCorrectly(problem.Prompt, problem.Solution.StepByStep);
            Assert.All(problem.Solution.Values, value => Assert.InRange(value, 0, ChainArithmeticTask.MaxValue));
        });
    }

    [Fact]
    public void The_prompt_and_both_answer_styles_read_as_documented()
    {
        var problem = new ChainArithmeticProblem(7, [new(ChainOperator.Add, 5), new(ChainOperator.Subtract, 3), new(ChainOperator.Add, 8)]);

        Assert.Equal("What is 7+5-3+8?", problem.Prompt);
        Assert.Equal("17", problem.Solution.Concise);
        Assert.Equal("7+5=12. 12-3=9. 9+8=17. The answer is 17.", problem.Solution.StepByStep);
    }

    [Fact]
    public void Excluded_problems_are_never_drawn()
    {
        var excluded = Problems.Take(1000).ToHashSet();

        var drawn = ChainArithmeticTask.Distinct(2000, seed: 11, excluded);

        Assert.DoesNotContain(drawn, excluded.Contains);
        Assert.Equal(Problems.Skip(1000), drawn.Take(1000));
    }
}
