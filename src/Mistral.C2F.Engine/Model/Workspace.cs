using Mistral.C2F.Engine.Backends;
using Mistral.C2F.Engine.Tensors;

namespace Mistral.C2F.Engine.Model;

/// <summary>
/// Named activation buffers that grow to the largest request and are reused across layers and calls,
/// so a steady-state forward pass allocates nothing.
/// </summary>
public sealed class Workspace(Backend backend) : IDisposable
{
    private readonly Dictionary<string, Tensor> _buffers = [];

    /// <summary>A [rows, width] tensor of the backend's float type; its contents are undefined.</summary>
    public Tensor Rows(string name, int rows, int width) => Get(name, rows, width, backend.FloatType);

    /// <summary>A [rows, width] I32 tensor; its contents are undefined.</summary>
    public Tensor IntRows(string name, int rows, int width) => Get(name, rows, width, DType.I32);

    private Tensor Get(string name, int rows, int width, DType dtype)
    {
        if (!_buffers.TryGetValue(name, out var buffer) || buffer.Shape[0] < rows || buffer.Shape[1] != width)
        {
            buffer?.Dispose();
            int capacity = buffer is null || buffer.Shape[1] != width ? rows : Math.Max(rows, buffer.Shape[0] * 2);
            buffer = _buffers[name] = backend.Allocate(new Shape(capacity, width), dtype);
        }
        return buffer.SliceRows(0, rows);
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _buffers.Clear();
    }
}
