using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// Every dataset of the offline pipeline, built from chain-arithmetic problems (<see cref="ChainArithmeticTask"/>). Each
/// training dataset has problems of its own; the validation problems (where settings are chosen) and the held-out ones
/// (which only measure) come from seeds of their own and share no problem with training or with each other.
/// </summary>
/// <param name="Pretraining">
/// Web-like text, in turns of four: three problems with a solution, one built-in SFT task (<see cref="BuiltInSftData"/>) for
/// variety. A solution is a bare answer, compact steps or redundant steps (<see cref="RedundancyPlan"/>: every one checks its
/// last step), and forgets the carry at most tens crossings (<see cref="TensCrossing"/>): the base model learns all of it.
/// </param>
/// <param name="InstructionSft">
/// Prompt → compact correct steps, on problems without a tens crossing: the instruction model learns the clean format, and
/// nothing about carrying that the base model did not know.
/// </param>
/// <param name="Preferences">Correctness-labelled pairs (<see cref="PreferenceData"/>), for the reward model.</param>
/// <param name="PpoPrompts">Rollout prompts for PPO, with the bare reference answer as the response (the answer checker's).</param>
/// <param name="ValidationPrompts">Where settings (λ, learning rates) are chosen and PPO is watched; never the held-out set.</param>
/// <param name="ValidationPreferences">Pairs for checking the reward model while choosing its settings.</param>
/// <param name="Evaluation">Held-out prompts with the bare reference answer, for the final measurements only.</param>
/// <param name="HeldOutPreferences">Held-out pairs: the reward model's measured accuracy, by combination of styles and kinds.</param>
/// <param name="UnitsSlipProbe">Held-out pairs of a kind never trained on (<see cref="RejectedKind.UnitsSlip"/>): the reward model's known blind spot, measured.</param>
/// <param name="HeldOutText">Held-out text for perplexity: correct compact steps and bare answers in turn.</param>
public sealed record ChainArithmeticDatasets(
    IReadOnlyList<TextExample> Pretraining,
    IReadOnlyList<PromptResponseExample> InstructionSft,
    IReadOnlyList<LabeledPreference> Preferences,
    IReadOnlyList<PromptResponseExample> PpoPrompts,
    IReadOnlyList<PromptResponseExample> ValidationPrompts,
    IReadOnlyList<LabeledPreference> ValidationPreferences,
    IReadOnlyList<PromptResponseExample> Evaluation,
    IReadOnlyList<LabeledPreference> HeldOutPreferences,
    IReadOnlyList<LabeledPreference> UnitsSlipProbe,
    IReadOnlyList<TextExample> HeldOutText)
{
    public const string PretrainingFileName = "pretraining.jsonl";
    public const string InstructionSftFileName = "sft.jsonl";
    public const string PreferencesFileName = "preferences.jsonl";
    public const string PpoPromptsFileName = "ppo-prompts.jsonl";
    public const string ValidationFileName = "validation.jsonl";
    public const string ValidationPreferencesFileName = "validation-preferences.jsonl";
    public const string EvaluationFileName = "eval.jsonl";
    public const string HeldOutPreferencesFileName = "heldout-preferences.jsonl";
    public const string HeldOutTextFileName = "heldout-text.jsonl";

    private const int BuiltInTaskShare = 4;

    public static ChainArithmeticDatasets Build(ChainArithmeticDataOptions? options = null)
    {
        options ??= new ChainArithmeticDataOptions();
        int solutionTexts = options.PretrainingCount - options.PretrainingCount / BuiltInTaskShare;
        var training = new Queue<ChainArithmeticProblem>(ChainArithmeticTask.Distinct(
            solutionTexts + options.PreferenceProblemCount + options.PpoPromptCount, options.TrainingSeed));
        var trainingSet = training.ToHashSet();
        var instruction = ChainArithmeticTask.Distinct(options.SftCount, options.TrainingSeed + 1, trainingSet, problem => !TensCrossing.AnyCrossing(problem));
        trainingSet.UnionWith(instruction);

        // Streams of their own, so that the text of one dataset does not shift when the size of another changes.
        var pretraining = PretrainingTexts(Take(training, solutionTexts), options, Stream(options.TrainingSeed, 1));
        var sft = instruction.Select(problem => new PromptResponseExample(problem.Prompt, problem.Solution.StepByStep)).ToArray();
        var preferences = PreferenceData.Build(Take(training, options.PreferenceProblemCount), options.PairsPerPreferenceProblem, Stream(options.TrainingSeed, 2));
        var ppoPrompts = Take(training, options.PpoPromptCount).Select(WithReference).ToArray();

        var validationProblems = ChainArithmeticTask.Distinct(options.ValidationCount + options.ValidationPreferenceCount, options.ValidationSeed, trainingSet);
        var validation = new Queue<ChainArithmeticProblem>(validationProblems);
        var validationPrompts = Take(validation, options.ValidationCount).Select(WithReference).ToArray();
        var validationPreferences = PreferenceData.Build(Take(validation, options.ValidationPreferenceCount), pairsPerProblem: 1, Stream(options.ValidationSeed, 2));

        var seen = trainingSet.Concat(validationProblems).ToHashSet();
        var heldOut = new Queue<ChainArithmeticProblem>(ChainArithmeticTask.Distinct(
            options.EvaluationCount + 2 * options.HeldOutPreferenceCount + options.HeldOutTextCount, options.EvaluationSeed, seen));
        var evaluation = Take(heldOut, options.EvaluationCount).Select(WithReference).ToArray();
        var heldOutPreferences = PreferenceData.Build(Take(heldOut, options.HeldOutPreferenceCount), pairsPerProblem: 1, Stream(options.EvaluationSeed, 2));
        var unitsSlipProbe = PreferenceData.UnitsSlips(Take(heldOut, options.HeldOutPreferenceCount), Stream(options.EvaluationSeed, 3));
        var heldOutText = Take(heldOut, options.HeldOutTextCount).Select((problem, i) => Text(problem, i % 2 == 0 ? problem.Solution.StepByStep : problem.Solution.Concise)).ToArray();
        return new ChainArithmeticDatasets(pretraining, sft, preferences, ppoPrompts, validationPrompts, validationPreferences, evaluation,
            heldOutPreferences, unitsSlipProbe, heldOutText);
    }

    /// <summary>Writes every dataset as JSONL under <paramref name="directory"/> (each file atomically).</summary>
    public void Write(string directory)
    {
        SftJsonlWriter.Write(Path.Combine(directory, PretrainingFileName), Pretraining);
        SftJsonlWriter.Write(Path.Combine(directory, InstructionSftFileName), InstructionSft);
        PreferenceJsonl.Write(Path.Combine(directory, PreferencesFileName), Preferences.Select(p => p.Pair));
        SftJsonlWriter.Write(Path.Combine(directory, PpoPromptsFileName), PpoPrompts);
        SftJsonlWriter.Write(Path.Combine(directory, ValidationFileName), ValidationPrompts);
        PreferenceJsonl.Write(Path.Combine(directory, ValidationPreferencesFileName), ValidationPreferences.Select(p => p.Pair));
        SftJsonlWriter.Write(Path.Combine(directory, EvaluationFileName), Evaluation);
        PreferenceJsonl.Write(Path.Combine(directory, HeldOutPreferencesFileName), HeldOutPreferences.Select(p => p.Pair));
        SftJsonlWriter.Write(Path.Combine(directory, HeldOutTextFileName), HeldOutText);
    }

    /// <summary>A problem and an answer as language-model text: "What is 7+5? 7+5=12. The answer is 12."</summary>
    public static TextExample Text(ChainArithmeticProblem problem, string answer) => new($"{problem.Prompt} {answer}");

    private static TextExample[] PretrainingTexts(ChainArithmeticProblem[] problems, ChainArithmeticDataOptions options, SplitMix64 random)
    {
        var builtIn = BuiltInSftData.Generate(options.PretrainingCount / BuiltInTaskShare, options.TrainingSeed);
        var texts = new List<TextExample>(options.PretrainingCount);
        int solved = 0;
        for (int i = 0; i < options.PretrainingCount; i++)
        {
            if (i % BuiltInTaskShare == BuiltInTaskShare - 1)
            {
                texts.Add(new TextExample($"{builtIn[i / BuiltInTaskShare].Prompt} {builtIn[i / BuiltInTaskShare].Response}"));
                continue;
            }
            var problem = problems[solved++];
            var solution = problem.Work(_ => random.NextDouble() < options.CrossingSlipRate);
            double style = random.NextDouble();
            texts.Add(Text(problem, style < options.ConciseShare ? solution.Concise
                : style < options.ConciseShare + options.RedundantShare ? RedundancyPlan.Draw(solution.Steps.Count, random).Write(problem, solution)
                : solution.StepByStep));
        }
        return [.. texts];
    }

    private static SplitMix64 Stream(int seed, ulong stream) => new((ulong)(uint)seed ^ (0x9E3779B97F4A7C15 * stream));

    private static PromptResponseExample WithReference(ChainArithmeticProblem problem) => new(problem.Prompt, problem.Solution.Concise);

    private static ChainArithmeticProblem[] Take(Queue<ChainArithmeticProblem> problems, int count) =>
        Enumerable.Range(0, count).Select(_ => problems.Dequeue()).ToArray();
}
