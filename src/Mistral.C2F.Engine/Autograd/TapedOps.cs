using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Autograd;

/// <summary>
/// The op contract over <see cref="Variable"/>s: each method runs the forward kernel and, when a tape is
/// recording, records the op's fused backward. Without a tape, activations of the same name share one
/// buffer across layers (inference); with one, every (name, layer) keeps its own buffer for the backward.
/// </summary>
public sealed class TapedOps(Backend backend, Workspace activations, Tape? tape)
{
    public Backend Backend => backend;
    public bool IsRecording => tape is not null;

    public Variable NewActivation(string name, int layer, int rows, int width)
    {
        var key = tape is null ? name : $"{name}#{layer}";
        return Variable.Activation(key, activations.Rows(key, rows, width));
    }

    /// <summary>Rows of a table by index: the embedding lookup (backward: scatter-add into the table's gradient).</summary>
    public Variable GatherRows(Variable table, Tensor indices, string name, int layer = -1)
    {
        var output = NewActivation(name, layer, (int)indices.ElementCount, table.Value.Shape.Columns);
        backend.GatherRows(table.Value, indices, output.Value);
        Record(() =>
        {
            if (tape!.Gradient(table) is { } tableGrad) backend.ScatterAddRows(tape.Gradient(output)!, indices, tableGrad);
        });
        return output;
    }

    public Variable RmsNorm(Variable input, Variable weight, float epsilon, string name, int layer)
    {
        var output = NewActivation(name, layer, (int)input.Value.Shape.Rows, input.Value.Shape.Columns);
        var inverseRms = tape is null ? null : NewActivation(name + ".inverse_rms", layer, (int)input.Value.Shape.Rows, 1);
        backend.RmsNorm(input.Value, weight.Value, epsilon, output.Value, inverseRms?.Value);
        Record(() => RmsNormBackward(input, weight, inverseRms!, output));
        return output;
    }

    /// <summary>
    /// The residual add and the RMSNorm of its sum as one op. <paramref name="sumName"/> names the sum, <paramref name="name"/>
    /// the normalised output. Backward: the norm's input gradient joins the sum's own, which then flows to a and b.
    /// </summary>
    public (Variable Sum, Variable Output) AddRmsNorm(Variable a, Variable b, Variable weight, float epsilon, string sumName, string name, int layer)
    {
        int rows = (int)a.Value.Shape.Rows, width = a.Value.Shape.Columns;
        var sum = NewActivation(sumName, layer, rows, width);
        var output = NewActivation(name, layer, rows, width);
        var inverseRms = tape is null ? null : NewActivation(name + ".inverse_rms", layer, rows, 1);
        backend.AddRmsNorm(a.Value, b.Value, weight.Value, epsilon, sum.Value, output.Value, inverseRms?.Value);
        Record(() =>
        {
            RmsNormBackward(sum, weight, inverseRms!, output);
            var sumGrad = tape!.Gradient(sum)!;
            foreach (var input in new[] { a, b })
                if (tape.Gradient(input) is { } inputGrad) backend.Add(inputGrad, sumGrad, inputGrad);
        });
        return (sum, output);
    }

    /// <summary>
    /// y = x·Wᵀ with W [out, in] as Hugging Face stores it. Backward: dx += dy·W, dW += dyᵀ·x. With
    /// <paramref name="readBy"/> the caller states that nothing but that attention reads y (<see cref="Backend.AttentionProjection"/>).
    /// </summary>
    public Variable Linear(Variable input, Variable weight, string name, int layer, (AttentionSpec Spec, AttentionLayout Layout)? readBy = null)
    {
        var output = NewActivation(name, layer, (int)input.Value.Shape.Rows, weight.Value.Shape[0]);
        if (readBy is var (spec, layout)) backend.AttentionProjection(input.Value, weight.Value, output.Value, spec, layout);
        else backend.MatMul(input.Value, weight.Value, output.Value, transposeB: true);
        Record(() =>
        {
            var outputGrad = tape!.Gradient(output)!;
            if (tape.Gradient(weight) is { } weightGrad) backend.MatMul(outputGrad, input.Value, weightGrad, transposeA: true, accumulate: true);
            if (tape.Gradient(input) is { } inputGrad) backend.MatMul(outputGrad, weight.Value, inputGrad, accumulate: true);
        });
        return output;
    }

    /// <summary>
    /// Rotary embedding in place; the backward rotates the gradient back, also in place. With <paramref name="readBy"/>
    /// the caller states that nothing but that attention reads x afterwards (<see cref="Backend.RopeForAttention"/>).
    /// </summary>
    public void Rope(Variable x, Tensor positions, int headDim, double theta, (AttentionSpec Spec, AttentionLayout Layout)? readBy = null)
    {
        if (readBy is var (spec, layout)) backend.RopeForAttention(x.Value, positions, headDim, theta, spec, layout);
        else backend.Rope(x.Value, positions, headDim, theta);
        Record(() => backend.Rope(tape!.Gradient(x)!, positions, headDim, theta, inverse: true));
    }

    /// <summary>q [B·Sq, Hq·D] attends to keys and values [B, Sk, Hkv·D]; the output has q's shape.</summary>
    public Variable Attention(Variable q, Variable keys, Variable values, Tensor queryPositions, Tensor keyPositions, AttentionSpec spec,
        AttentionLayout layout, string name, int layer)
    {
        int batch = queryPositions.Shape[0], length = queryPositions.Shape[1], width = q.Value.Shape.Columns;
        var output = NewActivation(name, layer, (int)q.Value.Shape.Rows, width);
        var logSumExp = tape is null ? null : NewActivation(name + ".lse", layer, batch * spec.QueryHeads, length);
        var queries = q.Value.Reshape(batch, length, width);
        backend.Attention(queries, keys.Value, values.Value, queryPositions, keyPositions, spec, output.Value.Reshape(batch, length, width), logSumExp?.Value,
            layout);
        Record(() => backend.AttentionBackward(queries, keys.Value, values.Value, queryPositions, keyPositions, spec,
            output.Value.Reshape(batch, length, width), logSumExp!.Value, tape!.Gradient(output)!.Reshape(batch, length, width),
            tape.Gradient(q)!.Reshape(batch, length, width), RequireGradient(keys).Reshape(keys.Value.Shape.ToArray()),
            RequireGradient(values).Reshape(values.Value.Shape.ToArray()), layout));
        return output;
    }

    public Variable SwiGlu(Variable gate, Variable up, string name, int layer)
    {
        var output = NewActivation(name, layer, (int)gate.Value.Shape.Rows, gate.Value.Shape.Columns);
        backend.SwiGlu(gate.Value, up.Value, output.Value);
        Record(() => backend.SwiGluBackward(gate.Value, up.Value, tape!.Gradient(output)!, tape.Gradient(gate)!, tape.Gradient(up)!));
        return output;
    }

    /// <summary>Log-probabilities of the targets per row (0 where the target is -1), and optionally the entropy.</summary>
    public (Variable LogProbs, Variable? Entropy) TokenLogProbs(Variable logits, Tensor targets, bool withEntropy, string name = "logprobs")
    {
        int rows = (int)logits.Value.Shape.Rows;
        var logProbs = NewActivation(name, -1, rows, 1);
        var logSumExp = NewActivation(name + ".lse", -1, rows, 1);
        var entropy = withEntropy ? NewActivation(name + ".entropy", -1, rows, 1) : null;
        backend.TokenLogProbs(logits.Value, targets, logProbs.Value, logSumExp.Value, entropy?.Value);
        Record(() => backend.TokenLogProbsBackward(logits.Value, targets, logSumExp.Value, tape!.Gradient(logProbs)!,
            entropy?.Value, entropy is null ? null : tape.Gradient(entropy), tape.Gradient(logits)!));
        return (logProbs, entropy);
    }

    private void Record(Action backward) => tape?.Record(backward);

    private void RmsNormBackward(Variable input, Variable weight, Variable inverseRms, Variable output) =>
        backend.RmsNormBackward(input.Value, weight.Value, inverseRms.Value, tape!.Gradient(output)!, tape.Gradient(input)!, tape.Gradient(weight));

    private Tensor RequireGradient(Variable variable) =>
        tape!.Gradient(variable) ?? throw new InvalidOperationException($"{variable} must take a gradient: training attends only to its own keys");
}
