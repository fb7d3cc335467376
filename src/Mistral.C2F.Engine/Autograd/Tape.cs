using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Model;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Autograd;

/// <summary>
/// Autograd-lite: the forward pass records, for each op, a closure that runs that op's fused backward
/// kernel; <see cref="Backward"/> replays them in reverse. Activation gradients are workspace buffers,
/// zeroed when first touched in a pass and reused across passes, so a training step allocates nothing
/// once warm.
/// </summary>
public sealed class Tape(Backend backend) : IDisposable
{
    private readonly List<Action> _backward = [];
    private readonly Workspace _gradients = new(backend);
    private readonly HashSet<string> _touched = [];
    private readonly List<IDisposable> _owned = [];

    public Backend Backend { get; } = backend;

    /// <summary>Operations recorded and not yet replayed.</summary>
    public int Count => _backward.Count;

    public void Record(Action backward) => _backward.Add(backward);

    /// <summary>Keeps inputs that recorded backwards read (token ids, targets) alive until the backward has run.</summary>
    public T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>
    /// The gradient buffer of <paramref name="variable"/> (zero on first use in a pass), or null when it
    /// needs none (constants, frozen parameters): backward closures skip those.
    /// </summary>
    public Tensor? Gradient(Variable variable)
    {
        if (variable.Kind == VariableKind.Parameter || variable.Kind == VariableKind.Constant) return variable.ParameterGradient;
        var gradient = _gradients.Rows(variable.Name, (int)variable.Value.Shape.Rows, variable.Value.Shape.Columns).Reshape(variable.Value.Shape.ToArray());
        if (_touched.Add(variable.Name)) Backend.Zero(gradient);
        return gradient;
    }

    /// <summary>Seeds d(objective)/d(output) for each output, then replays the recorded backwards in reverse.</summary>
    public void Backward(params (Variable Output, Tensor Gradient)[] seeds)
    {
        foreach (var (output, gradient) in seeds)
        {
            var slot = Gradient(output) ?? throw new ArgumentException($"{output} takes no gradient");
            Backend.Add(slot, gradient, slot);
        }
        for (int i = _backward.Count - 1; i >= 0; i--) _backward[i]();
        Reset();
    }

    /// <summary>Forgets the recorded ops without running them (a forward pass whose result is not trained on).</summary>
    public void Reset()
    {
        _backward.Clear();
        _touched.Clear();
        foreach (var disposable in _owned) disposable.Dispose();
        _owned.Clear();
    }

    public void Dispose()
    {
        Reset();
        _gradients.Dispose();
    }
}
