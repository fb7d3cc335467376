using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Backends.Cpu;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Tests.Ops;

/// <summary>
/// The op contract's own checks, shared by every backend: a wrong shape, dtype, owner or scalar fails before any
/// kernel runs, with a message that names the op and the problem.
/// </summary>
public sealed class ContractCheckTests : IDisposable
{
    private readonly CpuBackend _backend = new(1);

    private Tensor F(params int[] dims) => _backend.Allocate(dims);

    private void AssertRefused(Action op, params string[] messageParts)
    {
        var error = Assert.Throws<ArgumentException>(op);
        foreach (var part in messageParts) Assert.Contains(part, error.Message);
    }

    [Fact]
    public void Products_with_mismatched_inner_dimensions_are_refused() =>
        AssertRefused(() => _backend.MatMul(F(3, 4), F(5, 6), F(3, 6)), "MatMul", "inner dimensions differ");

    [Fact]
    public void RmsNorm_refuses_a_weight_of_the_wrong_length_and_a_negative_epsilon()
    {
        AssertRefused(() => _backend.RmsNorm(F(3, 8), F(7), 1e-5f, F(3, 8)), "RmsNorm", "weight length is 7, expected 8");
        AssertRefused(() => _backend.RmsNorm(F(3, 8), F(8), -1f, F(3, 8)), "RmsNorm", "epsilon must be non-negative");
    }

    [Fact]
    public void AddRmsNorm_refuses_operands_and_a_sum_of_different_shapes()
    {
        AssertRefused(() => _backend.AddRmsNorm(F(3, 8), F(4, 8), F(8), 1e-5f, F(3, 8), F(3, 8)), "AddRmsNorm", "shapes differ");
        AssertRefused(() => _backend.AddRmsNorm(F(3, 8), F(3, 8), F(8), 1e-5f, F(3, 9), F(3, 8)), "AddRmsNorm", "shapes differ");
        AssertRefused(() => _backend.AddRmsNorm(F(3, 8), F(3, 8), F(8), 1e-5f, F(3, 8), F(3, 8), F(4)), "AddRmsNorm", "inverse-rms length is 4");
    }

    [Fact]
    public void AdamW_over_a_parameter_list_refuses_a_mismatched_moment_and_an_invalid_step()
    {
        var step = new AdamWStep(1e-3f, 0.9f, 0.95f, 1e-8f, 0f, Step: 1);
        var good = new AdamWParameter(F(4), F(4), F(4), F(4), Decays: true);
        AssertRefused(() => _backend.AdamW([good, new AdamWParameter(F(4), F(4), F(5), F(4), Decays: false)], step), "AdamW", "shapes differ");
        AssertRefused(() => _backend.AdamW([good], step with { Step = 0 }), "AdamW step counts from 1");
    }

    [Fact]
    public void Attention_refuses_keys_that_do_not_match_the_spec()
    {
        var spec = new AttentionSpec(QueryHeads: 4, KvHeads: 2, HeadDim: 8, SlidingWindow: null);
        var positions = _backend.FromInts([0, 1, 2], 1, 3);
        AssertRefused(() => _backend.Attention(F(1, 3, 32), F(1, 3, 8), F(1, 3, 8), positions, positions, spec, F(1, 3, 32)),
            "Attention", "key elements is 24, expected 48");
    }

    [Fact]
    public void Tensors_of_another_dtype_or_backend_are_refused()
    {
        var ints = _backend.FromInts([1, 2, 3, 4], 2, 2);
        AssertRefused(() => _backend.Add(ints, F(2, 2), F(2, 2)), "Add", "computes in F32");
        using var other = new CpuBackend(1);
        AssertRefused(() => _backend.Add(other.Allocate(2, 2), F(2, 2), F(2, 2)), "Add", "belongs to backend");
    }

    [Fact]
    public void SumOfSquares_over_a_list_refuses_an_integer_tensor() =>
        AssertRefused(() => _backend.SumOfSquares([F(3), _backend.FromInts([1], 1)]), "SumOfSquares", "got a I32 tensor");

    public void Dispose() => _backend.Dispose();
}
