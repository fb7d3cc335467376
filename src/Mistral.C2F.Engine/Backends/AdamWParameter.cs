using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Backends;

/// <summary>One parameter of a multi-tensor AdamW update: its gradient, its two moments and whether weight decay applies.</summary>
public readonly record struct AdamWParameter(Tensor Parameter, Tensor Gradient, Tensor FirstMoment, Tensor SecondMoment, bool Decays);
