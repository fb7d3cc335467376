using Mistral.C2F.Engine.Diagnostics;
using Mistral.C2F.Engine.Model;

namespace Mistral.C2F.Engine.Tests.Diagnostics;

/// <summary>The step roofline c2f bench prints for device backends, and the predictions docs/perf/device-counters.md states.</summary>
[Trait("Backend", "cpu")]
public sealed class StepRooflineTests
{
    private static double Parameters(MistralConfig config) => MistralParameterNames.For(config).Sum(p => (double)p.Shape.ElementCount);

    [Theory]
    [InlineData("small", "train", 8, 1024, false)]
    [InlineData("small", "train", 8, 1024, true)]
    [InlineData("mistral-7b", "train", 1, 4096, true)]
    [InlineData("mistral-7b", "forward", 8, 2048, true)]
    [InlineData("mistral-7b", "decode", 8, 2048, true)]
    public void The_bound_is_the_larger_of_compute_and_memory_and_no_step_beats_it(string preset, string mode, int batch, int length, bool bf16)
    {
        var config = MistralPresets.Get(preset);
        var rates = DeviceRates.H100;
        var roofline = StepRoofline.For(mode, config, batch, length, rates, bf16);
        double rate = bf16 ? rates.Bf16FlopsPerSecond : rates.Float32FlopsPerSecond;
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{preset} {mode} {batch}×{length} {(bf16 ? "bf16" : "f32")}: compute {1e3 * roofline.ComputeSeconds:F3} ms, " +
            $"memory {1e3 * roofline.MemorySeconds:F3} ms, MFU {100 * roofline.SerialMfu(rate):F1}–{100 * roofline.BestMfu(rate):F1} %");

        Assert.Equal(roofline.Flops / rate, roofline.ComputeSeconds, 1e-12);
        Assert.Equal(roofline.Bytes / rates.BytesPerSecond, roofline.MemorySeconds, 1e-12);
        Assert.Equal(Math.Max(roofline.ComputeSeconds, roofline.MemorySeconds), roofline.BoundSeconds);
        Assert.InRange(roofline.BestMfu(rate), 0, 1 + 1e-9);
        Assert.Equal(roofline.ComputeSeconds + roofline.MemorySeconds, roofline.SerialSeconds, 1e-12);
        Assert.True(roofline.SerialMfu(rate) <= roofline.BestMfu(rate));
        // Every weight is read at least once (a bf16 copy: 2 bytes); training also writes its gradient and runs AdamW over it.
        Assert.True(roofline.Bytes >= Parameters(config) * (mode == "train" ? 38 : 2));
        if (mode == "decode") Assert.True(roofline.MemorySeconds > roofline.ComputeSeconds, "one token per sequence is bound by reading the weights");
    }

    [Fact]
    public void Bf16_products_cut_the_compute_time_by_the_ratio_of_the_rates_and_read_bf16_weight_copies_and_activations()
    {
        var config = MistralPresets.Get("small");
        var f32 = StepRoofline.For("train", config, 8, 1024, DeviceRates.H100, bf16Products: false);
        var bf16 = StepRoofline.For("train", config, 8, 1024, DeviceRates.H100, bf16Products: true);
        // Two bf16 reads of each weight instead of two float32 reads, plus AdamW writing the copy: 2 bytes less per
        // parameter; and 2 bytes less per element of the activations written as bf16 alone (both norms', attention's,
        // SwiGLU's), each written once and read twice.
        double bf16Activations = 8.0 * 1024 * config.NumHiddenLayers * (3.0 * config.HiddenSize + config.IntermediateSize);
        Assert.Equal(f32.Bytes - 2 * Parameters(config) - 3 * 2 * bf16Activations, bf16.Bytes, 1e-6 * f32.Bytes);
        var decodeF32 = StepRoofline.For("decode", config, 8, 1024, DeviceRates.H100, bf16Products: false);
        var decodeBf16 = StepRoofline.For("decode", config, 8, 1024, DeviceRates.H100, bf16Products: true);
        Assert.Equal(decodeF32.Bytes, decodeBf16.Bytes);
        Assert.Equal(800.0 / 67, f32.ComputeSeconds / bf16.ComputeSeconds, 1e-9);
        Assert.Same(DeviceRates.H200, DeviceRates.For("NVIDIA H200 (sm_90)"));
        Assert.Same(DeviceRates.H100, DeviceRates.For("CPU emulator"));
    }
}
