using System.CommandLine;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Tokenization;
using Mistral.C2F.Rlhf.Evaluation;
using Mistral.C2F.Rlhf.Sft.Data;

namespace Mistral.C2F.Cli.Commands;

/// <summary>
/// <c>c2f eval</c>: a model's greedy answers to prompts with checkable answers (accuracy, length, EOS rate, redundancy),
/// the reward model's score of them, and perplexity on held-out text, as one Markdown table row.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var prompts = new Option<FileInfo>("--prompts") { Description = "JSONL of {\"prompt\",\"response\"} with the reference answer as the response", Required = true };
        var rewardModel = new Option<string>("--reward-model") { Description = "Reward model directory, to score the responses" };
        var heldOut = new Option<FileInfo>("--heldout") { Description = "JSONL of {\"text\"} lines for perplexity" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Tokens generated per prompt", DefaultValueFactory = _ => 64 }.AtLeast(1);
        var samples = new Option<int>("--show") { Description = "Responses to print", DefaultValueFactory = _ => 5 }.AtLeast(0);
        var threads = CommonOptions.Threads();
        var backendName = CommonOptions.Backend();
        var command = new Command("eval", "Evaluate a model: accuracy, reward, length, EOS rate, redundancy, perplexity")
        {
            model, prompts, rewardModel, heldOut, maxTokens, samples, threads, backendName,
        };
        command.SetAction((parse, cancellation) =>
        {
            var directory = CommonOptions.ExistingDirectory(parse.GetRequiredValue(model));
            var examples = SftJsonlReader.Read(parse.GetRequiredValue(prompts).FullName).OfType<PromptResponseExample>().ToList();
            if (examples.Count == 0) throw new InvalidDataException($"{parse.GetRequiredValue(prompts).FullName}: expected {{\"prompt\",\"response\"}} lines");
            var texts = parse.GetValue(heldOut) is { } file ? SftJsonlReader.Read(file.FullName).OfType<TextExample>().ToList() : null;
            using var backend = CommonOptions.CreateBackend(parse.GetRequiredValue(backendName), parse.GetValue(threads));
            using var policy = MistralCheckpoint.LoadModel(directory, backend);
            using var scorer = parse.GetValue(rewardModel) is { } rm ? MistralCheckpoint.LoadSequenceClassifier(CommonOptions.ExistingDirectory(rm), backend) : null;
            var result = new StageEvaluator(MistralTokenizer.Load(directory), parse.GetValue(maxTokens))
                .Evaluate(policy, examples, scorer, texts, cancellation);
            for (int i = 0; i < Math.Min(parse.GetValue(samples), examples.Count); i++)
                Console.WriteLine($"{examples[i].Prompt} → {result.Responses[i].Text}   (expected {examples[i].Response})");
            Console.WriteLine(StageTable.Render([new StageRow(Path.GetFileName(directory), result.Metrics)]));
            return Task.CompletedTask;
        });
        return command;
    }
}
