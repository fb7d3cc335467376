using Mistral.C2F.Engine.Autograd;
using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Checkpoints;
using Mistral.C2F.Engine.Distributed;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;
using Mistral.C2F.Engine.Tokenization;

namespace Mistral.C2F.Engine.Training;

/// <summary>
/// A model being trained: its gradients, its tape and its AdamW state (whose step skips non-finite losses and
/// gradients), and the checkpoint format (a Hugging Face model directory in float32 plus <c>optimizer.safetensors</c>).
/// </summary>
public sealed class TrainableModel : IDisposable
{
    public const string OptimizerFileName = "optimizer.safetensors";

    /// <param name="communicator">The ranks of a data-parallel job, whose gradients the optimizer sums; null: one process.</param>
    /// <param name="stepStatistics">Elements of the optimizer's <see cref="AdamWOptimizer.StepStatistics"/>.</param>
    public TrainableModel(MistralModel model, AdamWOptions options, ICommunicator? communicator = null, int stepStatistics = 0)
    {
        Model = model;
        Gradients = model.AttachGradients();
        Tape = new Tape(model.Backend);
        Optimizer = new AdamWOptimizer(model.Backend, model.Parameters, Gradients, options, communicator, stepStatistics);
    }

    public MistralModel Model { get; }
    public IReadOnlyDictionary<string, Tensor> Gradients { get; }
    public Tape Tape { get; }
    public AdamWOptimizer Optimizer { get; }
    public Backend Backend => Model.Backend;

    /// <summary>
    /// Writes the weights (float32), the tokenizer files and the optimizer moments: a complete model directory. With
    /// ZeRO-1, after <see cref="AdamWOptimizer.GatherState"/> on every rank.
    /// </summary>
    public void Save(string directory, TokenizerFiles tokenizer)
    {
        MistralCheckpoint.SaveParameters(directory, Model.Config, Model.Parameters.Select(p => (p.Key, p.Value)), DType.F32,
            MistralCheckpoint.DefaultMaxShardBytes);
        tokenizer.Write(directory);
        var state = Optimizer.State();
        using var writer = new SafeTensorsWriter(Path.Combine(directory, OptimizerFileName),
            state.Select(s => new SafeTensorInfo(s.Name, SafeTensorsDType.F32, s.Shape)));
        foreach (var tensor in state) writer.Write(tensor.Name, tensor.Read());
        writer.Commit();
    }

    /// <summary>Loads a model directory; restores the optimizer moments at <paramref name="optimizerStep"/> when the directory has them.</summary>
    public static TrainableModel Load(string directory, Backend backend, AdamWOptions options, int optimizerStep = 0, ICommunicator? communicator = null,
        int stepStatistics = 0)
    {
        var trainable = new TrainableModel(MistralCheckpoint.LoadModel(directory, backend), options, communicator, stepStatistics);
        var optimizerPath = Path.Combine(directory, OptimizerFileName);
        if (optimizerStep > 0)
        {
            if (!File.Exists(optimizerPath)) throw new FileNotFoundException($"{optimizerPath}: optimizer state not found for step {optimizerStep}", optimizerPath);
            using var state = SafeTensorsFile.Open(optimizerPath);
            trainable.Optimizer.Restore(name => state.ReadFloats(name), optimizerStep);
        }
        return trainable;
    }

    public void Dispose()
    {
        Optimizer.Dispose();
        Tape.Dispose();
        Model.Dispose();
    }
}
