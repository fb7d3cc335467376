using Mistral.C2F.Rlhf.RewardModel.Data;
using Mistral.C2F.Engine.Determinism;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Rlhf.Tasks;

/// <summary>
/// Every dataset of the offline pipeline, built from chain-arithmetic problems (<see cref="ChainArithmeticTask"/>).
/// Each training dataset has problems of its own (drawn once from the training seed and dealt out in turn); the
/// held-out problems come from the evaluation seed and exclude every training problem.
/// </summary>
/// <param name="Pretraining">
/// Plain text, in turns of four: two problems with a step-by-step solution, one with the concise answer, one built-in
/// SFT task (<see cref="BuiltInSftData"/>) for variety. The base model so learns both answer styles.
/// </param>
/// <param name="InstructionSft">Prompt → concise answer: the instruction model answers briefly.</param>
/// <param name="Preferences">
/// Chosen: the correct solution; rejected: a plausible wrong one (<see cref="PlausibleMistakes"/>). The styles take
/// turns over (chosen, rejected) = (concise, concise), (steps, concise), (concise, steps), (steps, steps), a quarter
/// each, so length never tells the two apart and the reward model has to learn correctness.
/// </param>
/// <param name="PpoPrompts">Rollout prompts for PPO, with the concise reference answer as the response.</param>
/// <param name="Evaluation">Held-out prompts with the concise reference answer as the response.</param>
/// <param name="HeldOutText">Held-out text for perplexity: other held-out problems, step-by-step and concise in turn.</param>
public sealed record ChainArithmeticDatasets(
    IReadOnlyList<TextExample> Pretraining,
    IReadOnlyList<PromptResponseExample> InstructionSft,
    IReadOnlyList<PreferencePair> Preferences,
    IReadOnlyList<PromptResponseExample> PpoPrompts,
    IReadOnlyList<PromptResponseExample> Evaluation,
    IReadOnlyList<TextExample> HeldOutText)
{
    public const string PretrainingFileName = "pretraining.jsonl";
    public const string InstructionSftFileName = "sft.jsonl";
    public const string PreferencesFileName = "preferences.jsonl";
    public const string PpoPromptsFileName = "ppo-prompts.jsonl";
    public const string EvaluationFileName = "eval.jsonl";
    public const string HeldOutTextFileName = "heldout-text.jsonl";

    private const int BuiltInTaskShare = 4;

    public static ChainArithmeticDatasets Build(ChainArithmeticDataOptions? options = null)
    {
        options ??= new ChainArithmeticDataOptions();
        int chainTexts = options.PretrainingCount - options.PretrainingCount / BuiltInTaskShare;
        var training = new Queue<ChainArithmeticProblem>(ChainArithmeticTask.Distinct(
            chainTexts + options.SftCount + options.PreferenceCount + options.PpoPromptCount, options.TrainingSeed));
        var trainingSet = training.ToHashSet();

        var pretraining = PretrainingTexts(Take(training, chainTexts), options);
        var sft = Take(training, options.SftCount).Select(problem => new PromptResponseExample(problem.Prompt, problem.Solution.Concise)).ToArray();
        var preferences = PreferencePairs(Take(training, options.PreferenceCount), options.TrainingSeed);
        var ppoPrompts = Take(training, options.PpoPromptCount).Select(WithReference).ToArray();

        var heldOut = new Queue<ChainArithmeticProblem>(ChainArithmeticTask.Distinct(
            options.EvaluationCount + options.HeldOutTextCount, options.EvaluationSeed, trainingSet));
        var evaluation = Take(heldOut, options.EvaluationCount).Select(WithReference).ToArray();
        var heldOutText = Take(heldOut, options.HeldOutTextCount)
            .Select((problem, i) => Text(problem, stepByStep: i % 2 == 0)).ToArray();
        return new ChainArithmeticDatasets(pretraining, sft, preferences, ppoPrompts, evaluation, heldOutText);
    }

    /// <summary>Writes every dataset as JSONL under <paramref name="directory"/> (each file atomically).</summary>
    public void Write(string directory)
    {
        SftJsonlWriter.Write(Path.Combine(directory, PretrainingFileName), Pretraining);
        SftJsonlWriter.Write(Path.Combine(directory, InstructionSftFileName), InstructionSft);
        PreferenceJsonl.Write(Path.Combine(directory, PreferencesFileName), Preferences);
        SftJsonlWriter.Write(Path.Combine(directory, PpoPromptsFileName), PpoPrompts);
        SftJsonlWriter.Write(Path.Combine(directory, EvaluationFileName), Evaluation);
        SftJsonlWriter.Write(Path.Combine(directory, HeldOutTextFileName), HeldOutText);
    }

    /// <summary>A problem as language-model text, "What is 7+5? 7+5=12. The answer is 12." or "What is 7+5? 12".</summary>
    public static TextExample Text(ChainArithmeticProblem problem, bool stepByStep) =>
        new($"{problem.Prompt} {(stepByStep ? problem.Solution.StepByStep : problem.Solution.Concise)}");

    private static TextExample[] PretrainingTexts(ChainArithmeticProblem[] problems, ChainArithmeticDataOptions options)
    {
        var builtIn = BuiltInSftData.Generate(options.PretrainingCount / BuiltInTaskShare, options.TrainingSeed);
        var texts = new List<TextExample>(options.PretrainingCount);
        int chain = 0;
        for (int i = 0; i < options.PretrainingCount; i++)
            texts.Add((i % BuiltInTaskShare) switch
            {
                3 => new TextExample($"{builtIn[i / BuiltInTaskShare].Prompt} {builtIn[i / BuiltInTaskShare].Response}"),
                2 => Text(problems[chain++], stepByStep: false),
                _ => Text(problems[chain++], stepByStep: true),
            });
        return [.. texts];
    }

    private static PreferencePair[] PreferencePairs(ChainArithmeticProblem[] problems, int seed)
    {
        // A stream of its own, so that the mistakes do not shift when other dataset sizes change.
        var random = new SplitMix64((ulong)(uint)seed ^ 0x9E3779B97F4A7C15);
        return problems.Select((problem, i) =>
        {
            var wrong = PlausibleMistakes.Make(problem, random);
            bool chosenSteps = i % 2 == 1, rejectedSteps = i / 2 % 2 == 1;
            return new PreferencePair(
                problem.Prompt,
                chosenSteps ? problem.Solution.StepByStep : problem.Solution.Concise,
                rejectedSteps ? wrong.StepByStep : wrong.Concise);
        }).ToArray();
    }

    private static PromptResponseExample WithReference(ChainArithmeticProblem problem) => new(problem.Prompt, problem.Solution.Concise);

    private static ChainArithmeticProblem[] Take(Queue<ChainArithmeticProblem> problems, int count) =>
        Enumerable.Range(0, count).Select(_ => problems.Dequeue()).ToArray();
}
