using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Diagnostics;

/// <summary>A GPU's rates for a roofline: the copy bandwidth reachable, the float32 rate and the bf16 tensor-core rate.</summary>
public sealed record DeviceRates(string Card, double BytesPerSecond, double Float32FlopsPerSecond, double Bf16FlopsPerSecond)
{
    /// <summary>H100 SXM: 3.0 TB/s reachable of 3.35 (docs/DEFINITIONS.md), 67 TFLOP/s float32 (datasheet), 800 TFLOP/s bf16 (cuBLAS, measured).</summary>
    public static DeviceRates H100 { get; } = new("H100 SXM", 3.0e12, 67e12, 800e12);

    /// <summary>H200: 4.3 TB/s copy measured there; the same chip's compute as the H100's.</summary>
    public static DeviceRates H200 { get; } = new("H200", 4.3e12, 67e12, 800e12);

    /// <summary>The rates of the named device where known; the H100's otherwise (the emulator, other cards).</summary>
    public static DeviceRates For(string deviceName) => deviceName.Contains("H200", StringComparison.OrdinalIgnoreCase) ? H200 : H100;
}

/// <summary>
/// A step's lower bound on a GPU from the work it must do: its FLOPs at the rate of the precision its products run in,
/// and the bytes it must move at the copy bandwidth; the step takes at least the larger of the two. The bytes count
/// what no schedule avoids with float32 weights, gradients and AdamW state (each read or written once where it must
/// be: weights twice in training, forward and backward; gradients written once; AdamW's 28 bytes per parameter; with
/// bf16 products the weights are read as their bf16 copies, which AdamW writes, 2 bytes more per parameter) and
/// the activations a layer writes in the forward pass and reads back in the backward (flash attention keeps the
/// scores on chip), with the logits written and read once more for the loss.
/// </summary>
/// <param name="ComputeSeconds">The FLOPs at the rate of the products' precision.</param>
/// <param name="MemorySeconds">The bytes at the copy bandwidth.</param>
public sealed record StepRoofline(double Flops, double Bytes, double ComputeSeconds, double MemorySeconds)
{
    /// <summary>The bound: the larger of compute and memory time (every byte moved while the cores compute).</summary>
    public double BoundSeconds => Math.Max(ComputeSeconds, MemorySeconds);

    /// <summary>Compute and memory one after the other (no overlap): the pessimistic end of the prediction.</summary>
    public double SerialSeconds => ComputeSeconds + MemorySeconds;

    /// <summary>Model FLOP utilisation at the bound: the best MFU this step can reach on the card.</summary>
    public double BestMfu(double rate) => Flops / BoundSeconds / rate;

    /// <summary>Model FLOP utilisation without overlap.</summary>
    public double SerialMfu(double rate) => Flops / SerialSeconds / rate;

    public static StepRoofline For(string mode, MistralConfig config, int batch, int length, DeviceRates rates, bool bf16Products)
    {
        double rate = bf16Products ? rates.Bf16FlopsPerSecond : rates.Float32FlopsPerSecond;
        double tokens = (double)batch * (mode == "decode" ? 1 : length);
        double parameters = MistralParameterNames.For(config).Sum(p => (double)p.Shape.ElementCount);
        // Per token and layer, the forward writes about 8 hidden-wide tensors (norm, q, attention, o, residuals, norm,
        // down) plus 2 key/value-wide and 3 intermediate-wide (gate, up, their product). With bf16 products the two
        // norms' outputs, attention's and SwiGLU's are written as bf16 alone (2 bytes), the rest as float32.
        double bf16Wide = bf16Products && mode != "decode" ? 3.0 * config.HiddenSize + config.IntermediateSize : 0;
        double float32Wide = 8.0 * config.HiddenSize + 2.0 * config.NumKeyValueHeads * config.HeadDim + 3.0 * config.IntermediateSize - bf16Wide;
        double activations = tokens * config.NumHiddenLayers * (float32Wide * sizeof(float) + bf16Wide * sizeof(ushort));
        double logits = tokens * config.VocabSize * sizeof(float);
        // Decode's products (a row per sequence) stay float32 on cuda-bf16, so they read the float32 weights.
        double weightRead = bf16Products && mode != "decode" ? 2 : 4, copyWrite = bf16Products ? 2 : 0;
        var (flops, bytes) = mode switch
        {
            "train" => (StepBenchmark.TrainingFlops(config, batch, length), parameters * (2 * weightRead + 4 + 28 + copyWrite) + 3 * activations + 4 * logits),
            "forward" => (StepBenchmark.ForwardFlops(config, batch, length), parameters * weightRead + activations + logits),
            // One token per sequence: every weight read once, each sequence's keys and values read across the window.
            _ => (StepBenchmark.ForwardFlops(config, batch, 1), parameters * 4 + logits +
                  (double)batch * config.NumHiddenLayers * 2 * config.NumKeyValueHeads * config.HeadDim * Math.Min(length, config.SlidingWindow ?? length) * sizeof(float)),
        };
        return new StepRoofline(flops, bytes, flops / rate, bytes / rates.BytesPerSecond);
    }
}
