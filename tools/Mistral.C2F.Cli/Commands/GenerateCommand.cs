using System.CommandLine;
using System.Diagnostics;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Generation;
using Mistral.C2F.Engine.Tokenization;
using Spectre.Console;

namespace Mistral.C2F.Cli.Commands;

/// <summary><c>c2f generate</c>: streams a completion for one prompt, or completes a batch of prompts together.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDirectory();
        var prompts = new Option<string[]>("--prompt") { Description = "Prompt text; repeat for a batch", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most new tokens per prompt", DefaultValueFactory = _ => 128 }.AtLeast(1);
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var topP = new Option<float>("--top-p") { Description = "Keep the smallest set of tokens with this much probability", DefaultValueFactory = _ => 1f };
        var seed = new Option<int>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var chat = new Option<bool>("--chat") { Description = "Wrap each prompt in the Mistral instruct template ([INST] … [/INST])" };
        var (backend, threads, allowNonFinite) = (CommonOptions.Backend(), CommonOptions.Threads(), CommonOptions.AllowNonFinite());
        var command = new Command("generate", "Generate text from a model directory")
        {
            model, prompts, maxTokens, temperature, topK, topP, seed, chat, backend, threads, allowNonFinite,
        };
        command.SetAction((parse, cancellation) =>
        {
            var directory = CommonOptions.ExistingDirectory(parse.GetRequiredValue(model));
            var sampling = new SamplingOptions(parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP), parse.GetValue(seed));
            sampling.Validate();
            var tokenizer = MistralTokenizer.Load(directory);
            using var compute = CommonOptions.CreateBackend(parse.GetRequiredValue(backend), parse.GetValue(threads));
            using var mistral = MistralCheckpoint.LoadModel(directory, compute, parse.GetValue(allowNonFinite));
            var texts = parse.GetRequiredValue(prompts);
            var promptIds = texts.Select(text => parse.GetValue(chat)
                ? new ChatTemplate(tokenizer).Render([new ChatMessage(ChatRole.User, text)])
                : tokenizer.Encode(text, addBos: true)).ToArray();
            Run(new Generator(mistral), tokenizer, texts, promptIds, parse.GetValue(maxTokens), sampling, cancellation);
            return Task.CompletedTask;
        });
        return command;
    }

    private static void Run(Generator generator, MistralTokenizer tokenizer, string[] texts, int[][] prompts, int maxTokens,
        SamplingOptions sampling, CancellationToken cancellation)
    {
        bool stream = prompts.Length == 1;
        var decoder = tokenizer.CreateStreamDecoder(continuation: true);
        var clock = Stopwatch.StartNew();
        TimeSpan? firstToken = null;
        if (stream) Console.Write(texts[0]);
        var results = generator.Generate(prompts, maxTokens, sampling, (_, token) =>
        {
            firstToken ??= clock.Elapsed;
            if (stream && token != tokenizer.EosId) Console.Write(decoder.Push(token));
        }, cancellation);
        var total = clock.Elapsed;
        if (stream) Console.WriteLine(decoder.Flush());
        else
            for (int b = 0; b < results.Count; b++)
                AnsiConsole.Write(new Panel(Markup.Escape(texts[b] + tokenizer.Decode(results[b].Tokens, continuation: true))).Header($"prompt {b}"));

        int generated = results.Sum(r => r.Tokens.Length), promptTokens = prompts.Sum(p => p.Length);
        var prefill = firstToken ?? total;
        double decodeRate = generated > results.Count ? (generated - results.Count) / (total - prefill).TotalSeconds : 0;
        Console.Error.WriteLine($"prompt {promptTokens} tokens in {prefill.TotalMilliseconds:F0} ms ({promptTokens / prefill.TotalSeconds:F1} tokens/s); " +
            $"generated {generated} tokens, decode {decodeRate:F1} tokens/s; finish: {string.Join(", ", results.Select(r => r.FinishReason))}");
    }
}
