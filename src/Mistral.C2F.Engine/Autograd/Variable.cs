using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Autograd;

/// <summary>
/// A tensor taking part in a taped computation. A parameter carries its persistent gradient (which
/// accumulates across micro-batches); an activation's gradient is a buffer the tape hands out during the
/// backward pass; a constant has none.
/// </summary>
public sealed class Variable
{
    private Variable(string name, Tensor value, VariableKind kind, Tensor? parameterGradient)
    {
        Name = name;
        Value = value;
        Kind = kind;
        ParameterGradient = parameterGradient;
    }

    public string Name { get; }
    public Tensor Value { get; }
    public VariableKind Kind { get; }

    /// <summary>The gradient of a trainable parameter; null for activations, constants and frozen parameters.</summary>
    public Tensor? ParameterGradient { get; }

    public bool RequiresGradient => Kind == VariableKind.Activation || ParameterGradient is not null;

    public static Variable Parameter(string name, Tensor value, Tensor? gradient) => new(name, value, VariableKind.Parameter, gradient);
    public static Variable Activation(string name, Tensor value) => new(name, value, VariableKind.Activation, null);
    public static Variable Constant(string name, Tensor value) => new(name, value, VariableKind.Constant, null);

    public override string ToString() => $"{Kind} {Name} {Value.Shape}";
}

public enum VariableKind { Parameter, Activation, Constant }
