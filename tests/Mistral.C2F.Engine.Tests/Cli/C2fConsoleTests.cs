using Mistral.C2F.Cli;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Cuda;
using Mistral.C2F.Engine.Cuda.Emulation;
using Mistral.C2F.Engine.Tests.Support;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Tests.Cli;

/// <summary>The c2f commands run in-process: files they write, exit codes, and one-line errors.</summary>
[Trait("Backend", "cpu")]
[Collection(ConsoleCollection.Name)]
public sealed class C2fConsoleTests : IDisposable
{
    // bf16 operands (relative step 2⁻⁸) through four layers and their backward pass, accumulated in float32: the
    // standard bf16 bound.
    private const double Bf16Tolerance = 1e-2;

    private readonly TemporaryDirectory _directory = new();
    private readonly string _model;

    public C2fConsoleTests()
    {
        _model = _directory.File("tiny");
        Assert.Equal(0, Run("init", "--preset", "tiny", "--out", _model, "--seed", "5").ExitCode);
    }

    public void Dispose() => _directory.Dispose();

    private static (int ExitCode, string Error) Run(params string[] args) => InProcessC2f.Run(args);

    [Fact]
    public void Init_writes_a_loadable_checkpoint_with_tokenizer()
    {
        Assert.Equal(["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.model", "tokenizer_config.json"],
            Directory.EnumerateFiles(_model).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var backend = new CpuBackend(1);
        using var model = MistralCheckpoint.LoadModel(_model, backend);
        Assert.Equal(4, model.Config.NumHiddenLayers);
    }

    [Fact]
    public void Init_refuses_a_directory_that_is_not_empty()
    {
        var (code, error) = Run("init", "--preset", "tiny", "--out", _model);
        Assert.Equal(1, code);
        Assert.Contains("is not empty", error);
    }

    [Fact]
    public void Dump_writes_logits_loss_and_every_gradient_and_the_reference_backend_agrees()
    {
        int[][] rows = [[1, 17, 300, 2, 9], [1, 5, 5, 5, 767]];
        File.WriteAllText(_directory.File("tokens.json"), $"{{\"tokens\": [{string.Join(",", rows.Select(r => $"[{string.Join(",", r)}]"))}]}}");
        var (cpuDump, referenceDump) = (_directory.File("cpu.safetensors"), _directory.File("reference.safetensors"));
        Assert.Equal(0, Run("dump", "--model", _model, "--tokens", _directory.File("tokens.json"), "--out", cpuDump, "--threads", "2").ExitCode);
        Assert.Equal(0, Run("dump", "--model", _model, "--tokens", _directory.File("tokens.json"), "--out", referenceDump, "--backend", "reference").ExitCode);

        using var cpu = SafeTensorsFile.Open(cpuDump);
        using var reference = SafeTensorsFile.Open(referenceDump);
        Assert.Equal([2, 5, 768], cpu.Header.Info("logits").Shape.ToArray());
        using var backend = new CpuBackend(2);
        using var model = MistralCheckpoint.LoadModel(_model, backend);
        int[] positions = [0, 1, 2, 3, 4, 0, 1, 2, 3, 4];
        var expected = backend.ToFloats(model.Forward(backend.FromInts(rows.SelectMany(r => r).ToArray(), 2, 5), backend.FromInts(positions, 2, 5)));
        Assert.Equal(expected, cpu.ReadFloats("logits"));

        // The loss of a random model is near ln(vocab); float32 and float64 agree closely on every tensor.
        Assert.InRange(cpu.ReadFloats("loss")[0], Math.Log(768) - 1, Math.Log(768) + 1);
        var parameterNames = model.Parameters.Keys.Select(n => $"grad/{n}").Order(StringComparer.Ordinal);
        Assert.Equal(parameterNames, cpu.Tensors.Select(t => t.Name).Where(n => n.StartsWith("grad/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        foreach (var name in cpu.Tensors.Select(t => t.Name))
            Numerics.AssertClose(cpu.ReadFloats(name), reference.ReadFloats(name).Select(x => (double)x).ToArray(), 1e-4, name);
    }

    /// <summary>
    /// The hand-written CUDA kernels through the console: <c>dump --backend cuda-emu</c> (the kernels on their CPU
    /// emulator) agrees with the CPU backend on logits, loss and every gradient, and <c>cuda-emu-bf16</c> (products
    /// and attention on bf16 operands) within the bf16 bound; <c>--backend cuda</c> runs on a GPU or fails in one
    /// line that says why there is none.
    /// </summary>
    [Fact]
    [Trait("Backend", "cuda-emu")]
    public void Dump_on_the_cuda_kernels_agrees_with_the_cpu_and_a_missing_gpu_is_explained()
    {
        using (var emulator = EmulatedDevice.TryCreate(out var emulatorMissing))
            if (emulator is null) Assert.Skip($"no CPU emulator of the CUDA kernels: {emulatorMissing}");
        File.WriteAllText(_directory.File("tokens.json"), "{\"tokens\": [[1, 17, 300, 2, 9, 44], [1, 5, 5, 5, 767, 3]]}");
        string Dump(string backend)
        {
            var path = _directory.File($"{backend}.safetensors");
            var (code, error) = Run("dump", "--model", _model, "--tokens", _directory.File("tokens.json"), "--out", path, "--backend", backend);
            Assert.True(code == 0, $"dump --backend {backend}: {error}");
            return path;
        }
        using var cpu = SafeTensorsFile.Open(Dump("cpu"));
        using var emulated = SafeTensorsFile.Open(Dump("cuda-emu"));
        using var emulatedBf16 = SafeTensorsFile.Open(Dump("cuda-emu-bf16"));
        foreach (var name in cpu.Tensors.Select(t => t.Name))
        {
            var expected = cpu.ReadFloats(name).Select(x => (double)x).ToArray();
            Numerics.AssertClose(emulated.ReadFloats(name), expected, 1e-4, $"cuda-emu {name}");
            Numerics.AssertClose(emulatedBf16.ReadFloats(name), expected, Bf16Tolerance, $"cuda-emu-bf16 {name}");
        }

        using var gpu = CudaBackendFactory.TryCreateOnGpu(out var gpuMissing);
        if (gpu is not null) return;  // a GPU machine runs the same dump in the `cuda` tests
        var (exitCode, message) = Run("dump", "--model", _model, "--tokens", _directory.File("tokens.json"), "--out", _directory.File("gpu.safetensors"),
            "--backend", "cuda");
        Assert.NotEqual(0, exitCode);
        Assert.Contains(gpuMissing, message);
    }

    /// <summary>
    /// A checkpoint that ships only tokenizer.json (written from the tiny model's tokenizer.model) generates what its
    /// tokenizer.model twin generates, and a training run from it writes the tokenizer.json into its checkpoints.
    /// </summary>
    [Fact]
    public void A_checkpoint_with_only_tokenizer_json_generates_and_trains_as_its_tokenizer_model_twin()
    {
        var twin = Directory.CreateDirectory(_directory.File("json-only")).FullName;
        foreach (var file in Directory.EnumerateFiles(_model).Where(f => Path.GetFileName(f) != MistralTokenizer.ModelFileName))
            File.Copy(file, Path.Combine(twin, Path.GetFileName(file)));
        var modelFile = Path.Combine(_model, MistralTokenizer.ModelFileName);
        File.WriteAllText(Path.Combine(twin, HuggingFaceTokenizerJson.FileName),
            HuggingFaceTokenizerJson.Write(SentencePieceModel.Read(File.ReadAllBytes(modelFile), modelFile).Pieces));
        string Generate(string model)
        {
            var (code, output, error) = InProcessC2f.RunCapturing("generate", "--model", model, "--prompt", "  def f(x):\n        return", "--max-tokens", "12");
            Assert.True(code == 0, error);
            return output;
        }
        var expected = Generate(_model);
        Assert.StartsWith("  def f(x):", expected);
        Assert.Equal(expected, Generate(twin));

        File.WriteAllText(_directory.File("sft.jsonl"), "{\"prompt\": \"2 + 2 =\", \"response\": \" 4\"}\n{\"prompt\": \"3 + 1 =\", \"response\": \" 4\"}\n");
        var run = _directory.File("json-run");
        var (trained, trainError) = Run("train", "sft", "--model", twin, "--data", _directory.File("sft.jsonl"), "--out", run,
            "--steps", "2", "--batch", "2", "--seq", "32", "--save-every", "2", "--backend", "cpu");
        Assert.True(trained == 0, trainError);
        var checkpoint = Path.Combine(run, "checkpoint-000002");
        Assert.Equal(File.ReadAllBytes(Path.Combine(twin, HuggingFaceTokenizerJson.FileName)),
            File.ReadAllBytes(Path.Combine(checkpoint, HuggingFaceTokenizerJson.FileName)));
        Assert.False(File.Exists(Path.Combine(checkpoint, MistralTokenizer.ModelFileName)));
        Assert.StartsWith("  def f(x):", Generate(checkpoint));
    }

    /// <summary>
    /// <c>bench --mode kernels --plan-only</c> writes the plan PyTorch's peers are timed from and times nothing, so
    /// the GPU check can time PyTorch before the kernels; without <c>--plan-out</c> it is refused.
    /// </summary>
    [Fact]
    [Trait("Backend", "cuda-emu")]
    public void Kernel_bench_plan_only_writes_the_plan_and_times_nothing()
    {
        using (var emulator = EmulatedDevice.TryCreate(out var emulatorMissing))
            if (emulator is null) Assert.Skip($"no CPU emulator of the CUDA kernels: {emulatorMissing}");
        var plan = _directory.File("plan.json");
        var report = _directory.File("kernels.md");
        var (code, error) = Run("bench", "--mode", "kernels", "--backend", "cuda-emu", "--plan-out", plan, "--plan-only", "--report", report);
        Assert.True(code == 0, error);
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(plan));
        Assert.True(json.RootElement.GetArrayLength() > 10, "the plan lists every kernel case");
        Assert.All(json.RootElement.EnumerateArray(), c => Assert.False(string.IsNullOrEmpty(c.GetProperty("name").GetString())));
        Assert.False(File.Exists(report), "--plan-only timed the kernels and wrote a report");

        (code, error) = Run("bench", "--mode", "kernels", "--backend", "cuda-emu", "--plan-only");
        Assert.NotEqual(0, code);
        Assert.Contains("--plan-only writes the plan: give --plan-out FILE", error);
    }

    [Theory]
    [InlineData("{\"tokens\": [[1, 2], [3]]}", "different lengths")]
    [InlineData("{\"tokens\": [[1, 2, 768]]}", "outside the vocabulary")]
    [InlineData("{\"tokens\": []}", "at least one non-empty row")]
    [InlineData("{\"ids\": [[1]]}", "\"tokens\" array")]
    [InlineData("{\"tokens\": [[1, \"x\"]]}", "not a list of integer rows")]
    [InlineData("{\"tokens\": [[1, 2]", "not a list of integer rows")]
    public void Dump_rejects_bad_token_files_with_one_clear_line(string json, string problem)
    {
        var tokens = _directory.File("bad.json");
        File.WriteAllText(tokens, json);
        var (code, error) = Run("dump", "--model", _model, "--tokens", tokens, "--out", _directory.File("x.safetensors"));
        Assert.Equal(1, code);
        Assert.Contains(problem, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(_directory.File("x.safetensors")));
    }

    [Fact]
    public void Generate_runs_and_a_missing_model_directory_is_named()
    {
        Assert.Equal(0, Run("generate", "--model", _model, "--prompt", "Count to three:", "--max-tokens", "6", "--temperature", "0.7", "--top-k", "50").ExitCode);
        Assert.Equal(0, Run("generate", "--model", _model, "--prompt", "a", "--prompt", "b c d", "--max-tokens", "3", "--chat").ExitCode);
        var (code, error) = Run("generate", "--model", _directory.File("missing"), "--prompt", "hi");
        Assert.Equal(1, code);
        Assert.Contains("missing: model directory not found", error);
    }

    [Theory]
    [InlineData("--lanes 0 --backend cpu", "--lanes must be at least 1")]
    [InlineData("--lanes 3 --threads 2 --backend cpu", "--lanes 3 share the --threads: give at least as many threads, got 2")]
    [InlineData("--lanes 2 --backend reference", "--lanes 2: side-by-side stages run on the cpu backend only, not on reference")]
    public void Pipeline_refuses_lanes_it_cannot_run_before_it_writes_anything(string lanes, string problem)
    {
        var output = _directory.File("pipeline");
        var (code, error) = Run(["pipeline", "--out", output, .. lanes.Split(' ')]);
        Assert.NotEqual(0, code);
        Assert.Contains(problem, error);
        Assert.False(Directory.Exists(output));
    }
}
