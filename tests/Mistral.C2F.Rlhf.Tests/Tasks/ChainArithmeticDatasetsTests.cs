using System.Text.RegularExpressions;
using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Sft.Data;
using Mistral.C2F.Rlhf.Tasks;
using Mistral.C2F.Rlhf.Tests.Support;

namespace Mistral.C2F.Rlhf.Tests.Tasks;

/// <summary>
/// The pipeline's datasets: a web-like corpus that forgets the carry most of the time and is often redundant, clean
/// instruction data without tens crossings, correctness-labelled preference pairs, and validation and held-out sets that
/// share no problem with training or each other.
/// </summary>
[Trait("Backend", "cpu")]
[Collection(BuiltInTokenizerCollection.Name)]
public sealed partial class ChainArithmeticDatasetsTests(BuiltInTokenizerFixture fixture)
{
    /// <summary>What the pipeline's reward model and evaluation allow, BOS and EOS included.</summary>
    private const int MaxTokens = 96;

    private static readonly ChainArithmeticDataOptions Options = new()
    {
        PretrainingCount = 2000, SftCount = 300, PreferenceProblemCount = 600, PairsPerPreferenceProblem = 3, PpoPromptCount = 200, ValidationCount = 60, ValidationPreferenceCount = 80,
        EvaluationCount = 150, HeldOutPreferenceCount = 120, HeldOutTextCount = 100,
    };

    private static readonly ChainArithmeticDatasets Data = ChainArithmeticDatasets.Build(Options);

    [Fact]
    public void Every_dataset_has_its_size_and_the_same_options_give_the_same_data()
    {
        Assert.Equal(
            [Options.PretrainingCount, Options.SftCount, Options.PreferenceProblemCount * Options.PairsPerPreferenceProblem, Options.PpoPromptCount, Options.ValidationCount,
                Options.ValidationPreferenceCount, Options.EvaluationCount, Options.HeldOutPreferenceCount, Options.HeldOutPreferenceCount, Options.HeldOutTextCount],
            [Data.Pretraining.Count, Data.InstructionSft.Count, Data.Preferences.Count, Data.PpoPrompts.Count, Data.ValidationPrompts.Count,
                Data.ValidationPreferences.Count, Data.Evaluation.Count, Data.HeldOutPreferences.Count, Data.UnitsSlipProbe.Count, Data.HeldOutText.Count]);
        var again = ChainArithmeticDatasets.Build(Options);
        Assert.Equal(Data.Pretraining, again.Pretraining);
        Assert.Equal(Data.Preferences, again.Preferences);
        Assert.Equal(Data.Evaluation, again.Evaluation);
        var reseeded = ChainArithmeticDatasets.Build(Options with { EvaluationSeed = Options.EvaluationSeed + 1 });
        Assert.Equal(Data.InstructionSft, reseeded.InstructionSft);
        Assert.NotEqual(Data.Evaluation, reseeded.Evaluation);
    }

    /// <summary>
    /// More pairs per training problem write more rejected answers on the same problems: every other dataset, the validation
    /// and held-out ones above all, stays as it was.
    /// </summary>
    [Fact]
    public void Pairs_per_preference_problem_add_pairs_on_the_same_problems_and_change_no_other_dataset()
    {
        var one = ChainArithmeticDatasets.Build(Options with { PairsPerPreferenceProblem = 1 });
        Assert.Equal(one.Preferences.Select(p => p.Pair.Prompt).SelectMany(prompt => Enumerable.Repeat(prompt, 3)), Data.Preferences.Select(p => p.Pair.Prompt));
        // Each pair is drawn afresh: the three rejected answers of a problem are not one answer written three times.
        Assert.True(Data.Preferences.Chunk(3).Count(pairs => pairs.Select(p => p.Pair.Rejected).Distinct().Count() > 1) > 0.9 * Options.PreferenceProblemCount);
        Assert.Equal(one.Pretraining, Data.Pretraining);
        Assert.Equal(one.InstructionSft, Data.InstructionSft);
        Assert.Equal(one.PpoPrompts, Data.PpoPrompts);
        Assert.Equal(one.ValidationPrompts, Data.ValidationPrompts);
        Assert.Equal(one.ValidationPreferences, Data.ValidationPreferences);
        Assert.Equal(one.Evaluation, Data.Evaluation);
        Assert.Equal(one.HeldOutPreferences, Data.HeldOutPreferences);
        Assert.Equal(one.UnitsSlipProbe, Data.UnitsSlipProbe);
        Assert.Equal(one.HeldOutText, Data.HeldOutText);
        Assert.Throws<ArgumentOutOfRangeException>(() => ChainArithmeticDatasets.Build(Options with { PairsPerPreferenceProblem = 0 }));
    }

    [Fact]
    public void Instruction_data_is_compact_correct_steps_on_problems_without_a_tens_crossing()
    {
        Assert.All(Data.InstructionSft, example =>
        {
            ChainArithmeticText.AssertWorkedCorrectly(example.Prompt, example.Response);
            var (start, operands) = ChainArithmeticText.ParsePrompt(example.Prompt);
            int value = start;
            foreach (var operand in operands)
            {
                Assert.Equal(Math.Floor(value / 10.0), Math.Floor((value + operand) / 10.0));
                value += operand;
            }
        });
    }

    [Fact]
    public void Reference_answers_are_the_bare_correct_answers()
    {
        Assert.All(Data.PpoPrompts.Concat(Data.ValidationPrompts).Concat(Data.Evaluation), example =>
            Assert.Equal(ChainArithmeticText.Solve(example.Prompt).ToString(), example.Response));
    }

    /// <summary>
    /// The corpus the base model learns from: a fifth bare answers, more than half redundant steps (each checks its last
    /// step), and the carry forgotten at the set share of tens crossings (60 % by default); every step that crosses no tens boundary is right.
    /// </summary>
    [Fact]
    public void Pretraining_text_forgets_most_carries_and_is_mostly_redundant()
    {
        var solutions = Data.Pretraining.Select(e => e.Text).Where(t => t.StartsWith("What is ", StringComparison.Ordinal)).ToList();
        Assert.Equal(Options.PretrainingCount * 3 / 4, solutions.Count);
        double redundant = solutions.Count(t => t.Contains("Check: ", StringComparison.Ordinal)) / (double)solutions.Count;
        double concise = solutions.Count(t => BareAnswer().IsMatch(t)) / (double)solutions.Count;
        Assert.InRange(redundant, 0.50, 0.60);
        Assert.InRange(concise, 0.16, 0.24);

        int crossings = 0, slipped = 0;
        foreach (Match step in Step().Matches(string.Join(' ', solutions)))
        {
            int left = int.Parse(step.Groups[1].Value), operand = (step.Groups[2].Value == "+" ? 1 : -1) * int.Parse(step.Groups[3].Value);
            int result = int.Parse(step.Groups[4].Value);
            bool crosses = Math.Floor(left / 10.0) != Math.Floor((left + operand) / 10.0);
            if (!crosses) Assert.Equal(left + operand, result);
            else
            {
                crossings++;
                if (result != left + operand) slipped++;
            }
        }
        Assert.InRange(slipped / (double)crossings, Options.CrossingSlipRate - 0.05, Options.CrossingSlipRate + 0.05);
    }

    [Fact]
    public void Preference_pairs_choose_a_correct_worked_solution_and_reject_a_wrong_or_uncheckable_one()
    {
        Assert.All(Data.Preferences.Concat(Data.HeldOutPreferences).Concat(Data.UnitsSlipProbe), labeled =>
        {
            var pair = labeled.Pair;
            int answer = ChainArithmeticText.Solve(pair.Prompt);
            Assert.True(AnswerChecker.IsCorrect(pair.Chosen, answer), pair.ToString());
            Assert.Equal(0, Step().Matches(pair.Chosen).Count(step => !StepIsRight(step)));
            Assert.Equal(labeled.ChosenRedundant, pair.Chosen.Contains("Check: ", StringComparison.Ordinal));
            if (labeled.Rejected is RejectedKind.CrossingSlip or RejectedKind.SpuriousCarry or RejectedKind.OperatorMisread or RejectedKind.UnitsSlip
                or RejectedKind.FixedAnswer)
                Assert.False(AnswerChecker.IsCorrect(pair.Rejected, answer), pair.ToString());
            if (labeled.Rejected is RejectedKind.CrossingSlip or RejectedKind.SpuriousCarry or RejectedKind.UnitsSlip)
                Assert.True(Step().Matches(pair.Rejected).Any(step => !StepIsRight(step)), pair.ToString());
            if (labeled.Rejected == RejectedKind.CutOff) Assert.DoesNotContain("answer", pair.Rejected, StringComparison.OrdinalIgnoreCase);
        });
        // Units slips are only a probe. 35 % of the training pairs are drawn as forgotten carries and 20 % as spurious ones; problems
        // without a crossing, slips that cancel out and spurious carries that leave 0..99 give a misread operation instead.
        Assert.DoesNotContain(Data.Preferences, p => p.Rejected == RejectedKind.UnitsSlip);
        Assert.All(Data.UnitsSlipProbe, p => Assert.Equal(RejectedKind.UnitsSlip, p.Rejected));
        Assert.InRange(Data.Preferences.Count(p => p.Rejected == RejectedKind.CrossingSlip) / (double)Data.Preferences.Count, 0.18, 0.35);
        Assert.InRange(Data.Preferences.Count(p => p.Rejected == RejectedKind.SpuriousCarry) / (double)Data.Preferences.Count, 0.12, 0.2);
    }

    /// <summary>A spurious carry is one wrong step, at no tens crossing, ten too many for + and ten too few for −; the rest is worked right.</summary>
    [Fact]
    public void Spurious_carry_pairs_reject_one_carry_made_where_no_tens_boundary_is_crossed()
    {
        var spurious = Data.Preferences.Concat(Data.HeldOutPreferences).Where(p => p.Rejected == RejectedKind.SpuriousCarry).ToList();
        Assert.NotEmpty(spurious);
        Assert.All(spurious, labeled =>
        {
            var wrong = Assert.Single(Step().Matches(labeled.Pair.Rejected).Where(step => !StepIsRight(step)).Select(step => step.Value).Distinct());
            var step = Step().Match(wrong);
            int left = int.Parse(step.Groups[1].Value), operand = int.Parse(step.Groups[3].Value), result = int.Parse(step.Groups[4].Value);
            var op = step.Groups[2].Value == "+" ? ChainOperator.Add : ChainOperator.Subtract;
            Assert.False(TensCrossing.Crosses(left, op, operand), labeled.Pair.ToString());
            Assert.Equal(op.Apply(left, operand) + (op == ChainOperator.Add ? 10 : -10), result);
        });
    }

    /// <summary>Length and redundancy tell nothing: the chosen side is redundant half the time, and longer about half the time.</summary>
    [Fact]
    public void Preferences_are_neutral_to_length_and_redundancy_among_worked_answers()
    {
        var worked = Data.Preferences.Where(p => p.RejectedRedundant is not null).ToList();
        Assert.InRange(worked.Count(p => p.ChosenRedundant) / (double)worked.Count, 0.42, 0.58);
        Assert.InRange(worked.Count(p => p.RejectedRedundant == true) / (double)worked.Count, 0.42, 0.58);
        var mistakes = worked.Where(p => p.Rejected != RejectedKind.CutOff).ToList();
        Assert.InRange(mistakes.Count(p => p.Pair.Chosen.Length > p.Pair.Rejected.Length) / (double)mistakes.Count, 0.1, 0.5);
        Assert.InRange(mistakes.Count(p => p.Pair.Chosen.Length < p.Pair.Rejected.Length) / (double)mistakes.Count, 0.1, 0.5);
    }

    [Fact]
    public void Training_validation_and_held_out_sets_share_no_problem()
    {
        string? Prompt(string text) => Regex.Match(text, @"^What is [0-9+-]+\?") is { Success: true } m ? m.Value : null;
        var training = Data.Pretraining.Select(e => Prompt(e.Text)).OfType<string>().Concat(Data.InstructionSft.Select(e => e.Prompt))
            .Concat(Data.Preferences.Select(p => p.Pair.Prompt)).Concat(Data.PpoPrompts.Select(e => e.Prompt)).ToHashSet();
        var validation = Data.ValidationPrompts.Select(e => e.Prompt).Concat(Data.ValidationPreferences.Select(p => p.Pair.Prompt)).ToHashSet();
        var heldOut = Data.Evaluation.Select(e => e.Prompt).Concat(Data.HeldOutPreferences.Select(p => p.Pair.Prompt))
            .Concat(Data.UnitsSlipProbe.Select(p => p.Pair.Prompt)).Concat(Data.HeldOutText.Select(e => Prompt(e.Text)!)).ToHashSet();
        Assert.Empty(training.Intersect(validation));
        Assert.Empty(training.Intersect(heldOut));
        Assert.Empty(validation.Intersect(heldOut));
        Assert.Equal(Options.EvaluationCount + 2 * Options.HeldOutPreferenceCount + Options.HeldOutTextCount, heldOut.Count);
    }

    [Fact]
    public void Every_example_is_ascii_within_the_token_bound_and_fully_covered_by_the_built_in_tokenizer()
    {
        var tokenizer = new SftExampleTokenizer(fixture.Tokenizer);
        var examples = Data.Pretraining.Cast<SftExample>().Concat(Data.InstructionSft).Concat(Data.PpoPrompts).Concat(Data.Evaluation).Concat(Data.HeldOutText)
            .Concat(Data.Preferences.Concat(Data.UnitsSlipProbe).SelectMany(p => new[] { new PromptResponseExample(p.Pair.Prompt, p.Pair.Chosen), new PromptResponseExample(p.Pair.Prompt, p.Pair.Rejected) }))
            .ToArray();
        var lengths = examples.Select(example => tokenizer.Tokenize(example).Ids).ToArray();
        Assert.All(examples, example => Assert.True(SftJsonLine.Format(example).All(char.IsAscii), example.ToString()));
        Assert.All(lengths, ids => Assert.InRange(ids.Length, 4, MaxTokens));
        Assert.DoesNotContain(SpecialTokens.UnknownId, lengths.SelectMany(ids => ids));
    }

    [Fact]
    public void Written_files_are_jsonl_in_the_sft_and_preference_formats()
    {
        using var directory = new TemporaryDirectory();
        Data.Write(directory.Path);
        Assert.Equal(9, directory.FileNames().Length);
        Assert.Equal(Data.Pretraining, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.PretrainingFileName)));
        Assert.Equal(Data.ValidationPrompts, SftJsonlReader.Read(directory.File(ChainArithmeticDatasets.ValidationFileName)));
        Assert.Equal(Data.Preferences.Select(p => p.Pair), PreferenceJsonl.Read(directory.File(ChainArithmeticDatasets.PreferencesFileName)));
        Assert.Equal(Data.HeldOutPreferences.Select(p => p.Pair), PreferenceJsonl.Read(directory.File(ChainArithmeticDatasets.HeldOutPreferencesFileName)));
    }

    /// <summary>
    /// The data every reported run trained and was measured on, pinned: a change to the task's generator that moves one
    /// byte of the nine files these options write fails here, and must say so (hash taken when the problems grew to four
    /// operations; the one of 300634b's sweep was 053B5AE1…F6AA).
    /// </summary>
    [Fact]
    public void The_data_is_byte_for_byte_the_data_of_the_reported_runs()
    {
        using var directory = new TemporaryDirectory();
        Data.Write(directory.Path);
        using var sha = System.Security.Cryptography.SHA256.Create();
        foreach (var file in directory.FileNames())
        {
            var name = System.Text.Encoding.UTF8.GetBytes(file);
            sha.TransformBlock(name, 0, name.Length, null, 0);
            var bytes = File.ReadAllBytes(directory.File(file));
            sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        }
        sha.TransformFinalBlock([], 0, 0);
        Assert.Equal("F7A09866DE7727F82EE90B3CBE978534F9E76B0EA66644EE09D696549C97E88E", Convert.ToHexString(sha.Hash!));
    }

    [Fact]
    public void A_forgotten_carry_keeps_the_tens_digit_and_later_steps_work_on_from_it()
    {
        Assert.Equal(12, TensCrossing.Slipped(17, ChainOperator.Add, 5));
        Assert.Equal(28, TensCrossing.Slipped(23, ChainOperator.Subtract, 5));
        Assert.Equal(6, TensCrossing.Slipped(2, ChainOperator.Subtract, 6));
        Assert.True(TensCrossing.Crosses(2, ChainOperator.Subtract, 6));
        Assert.False(TensCrossing.Crosses(12, ChainOperator.Add, 5));
        var problem = new ChainArithmeticProblem(17, [new(ChainOperator.Add, 5), new(ChainOperator.Subtract, 3), new(ChainOperator.Add, 9)]);
        Assert.Equal("17+5=12. 12-3=19. 19+9=18. The answer is 18.", problem.Work(_ => true).StepByStep);
        Assert.Equal("17+5=22. 22-3=19. 19+9=28. The answer is 28.", problem.Work(_ => false).StepByStep);
        Assert.Equal("17+5=12. 12-3=9. 9+9=18. The answer is 18.", problem.Work(i => i == 0).StepByStep);
    }

    [Fact]
    public void A_redundancy_plan_writes_the_same_layout_around_two_solutions()
    {
        var problem = new ChainArithmeticProblem(7, [new(ChainOperator.Add, 5), new(ChainOperator.Subtract, 3)]);
        var plan = RedundancyPlan.Of([RedundancyKind.RestatedQuestion, RedundancyKind.CheckedStep], problem.Steps.Count, new SplitMix64(1));
        Assert.Equal("We need 7+5-3. 7+5=12. 12-3=9. Check: 12-3=9. The answer is 9.", plan.Write(problem, problem.Solution));
        Assert.Equal("We need 7+5-3. 7+5=2. 2-3=9. Check: 2-3=9. The answer is 9.", plan.Write(problem, problem.Work(_ => true)));
        Assert.Equal(new RepeatCount(2, 5), IdleSentences.Count(plan.Write(problem, problem.Solution)));
    }

    private static bool StepIsRight(Match step) =>
        int.Parse(step.Groups[1].Value) + (step.Groups[2].Value == "+" ? 1 : -1) * int.Parse(step.Groups[3].Value) == int.Parse(step.Groups[4].Value);

    [GeneratedRegex(@"(?<![\d=])(-?\d+)([+-])(\d+)=(-?\d+)")]
    private static partial Regex Step();

    [GeneratedRegex(@"\? -?\d+$")]
    private static partial Regex BareAnswer();
}
