using System.Runtime.InteropServices;
using Mistral.C2F.Engine.Backends;

namespace Mistral.C2F.Engine.Cuda.Kernels;

/// <summary>
/// Index errors found by kernels (a row index or target token outside its table). A kernel cannot throw and
/// a host-side check would cost a round trip per op, so the first fault is recorded on the device as
/// [code, value, limit] (c2f::report_fault in kernels/include/c2f/vector_io.cuh) and thrown by the next
/// download (<see cref="Download{T}"/>) or <see cref="ThrowIfAny"/>. The faulting op's output is undefined.
/// </summary>
public sealed class KernelFaults : IDisposable
{
    /// <summary>
    /// Results up to this size travel with the record in one copy (kernels/readback.cu): a step's loss and norm, a decode
    /// step's logits (a 32768-token vocabulary for 32 sequences). Larger ones, checkpoint weights say, take a second copy for
    /// the record rather than a staging buffer of their size.
    /// </summary>
    private const long MaxGatheredBytes = 4 << 20;

    /// <summary>Where the record sits in the staging buffer; the result follows at 16 bytes, aligned for any element.</summary>
    private const int ResultOffset = 16;

    private readonly IKernelDevice _device;
    private readonly DeviceBuffer _record;
    private readonly KernelScratch _staging;
    private byte[] _hostStaging = [];

    public KernelFaults(IKernelDevice device)
    {
        _device = device;
        _record = device.Allocate(3 * sizeof(int));
        _staging = new KernelScratch(device);
        Clear();
    }

    /// <summary>The device address of the record, the kernels' <c>int* fault</c> parameter.</summary>
    public ulong Address => _record.Address;

    /// <summary>Copies device memory at <paramref name="source"/> to the host, then throws any fault recorded so far: one wait where the result is small.</summary>
    public unsafe void Download<T>(ulong source, Span<T> destination) where T : unmanaged
    {
        long bytes = (long)destination.Length * sizeof(T);
        if (bytes > MaxGatheredBytes)
        {
            _device.Download(source, destination);
            ThrowIfAny();
            return;
        }
        ulong staging = _staging.Get(ResultOffset + bytes);
        _device.Launch("c2f_readback_gather", MemoryBoundLaunch.Flat(Math.Max(1, bytes / 4), vectorWidth: 1), KernelArg.Pointer(_record.Address),
            KernelArg.Pointer(source), bytes, KernelArg.Pointer(staging));
        int total = checked(ResultOffset + (int)bytes);
        if (_hostStaging.Length < total) _hostStaging = new byte[total];
        var gathered = _hostStaging.AsSpan(0, total);
        _device.Download(staging, gathered);
        MemoryMarshal.Cast<byte, T>(gathered[ResultOffset..]).CopyTo(destination);
        Throw(MemoryMarshal.Cast<byte, int>(gathered[..(3 * sizeof(int))]));
    }

    /// <summary>
    /// Several device ranges copied to the host in one wait when together they are small (each gathered with a copy of
    /// the record into one staging buffer), then any fault recorded so far thrown; else one download each.
    /// </summary>
    public byte[][] Download(IReadOnlyList<(ulong Source, long Bytes)> ranges)
    {
        var slots = ranges.Select(r => ResultOffset + (r.Bytes + ResultOffset - 1) / ResultOffset * ResultOffset).ToArray();
        long total = slots.Sum();
        if (total > MaxGatheredBytes)
            return ranges.Select(r =>
            {
                var bytes = new byte[r.Bytes];
                Download<byte>(r.Source, bytes);
                return bytes;
            }).ToArray();
        ulong staging = _staging.Get(total), slot = staging;
        for (int i = 0; i < ranges.Count; slot += (ulong)slots[i], i++)
            _device.Launch("c2f_readback_gather", MemoryBoundLaunch.Flat(Math.Max(1, ranges[i].Bytes / 4), vectorWidth: 1), KernelArg.Pointer(_record.Address),
                KernelArg.Pointer(ranges[i].Source), ranges[i].Bytes, KernelArg.Pointer(slot));
        if (_hostStaging.Length < total) _hostStaging = new byte[total];
        var gathered = _hostStaging.AsSpan(0, (int)total);
        _device.Download(staging, gathered);
        var results = new byte[ranges.Count][];
        for (int i = 0, at = 0; i < ranges.Count; at += (int)slots[i], i++)
            results[i] = gathered.Slice(at + ResultOffset, (int)ranges[i].Bytes).ToArray();
        // Every slot holds the record as it stood when its copy ran; the last one is the latest.
        if (ranges.Count > 0) Throw(MemoryMarshal.Cast<byte, int>(gathered.Slice((int)(total - slots[^1]), 3 * sizeof(int))));
        return results;
    }

    public void ThrowIfAny()
    {
        var record = new int[3];
        _device.Download<int>(_record.Address, record);
        Throw(record);
    }

    private void Throw(ReadOnlySpan<int> record)
    {
        if (DeviceFault.ToException(record, "CUDA") is not { } fault) return;
        Clear();
        throw fault;
    }

    private void Clear() => _device.Fill32(_record.Address, 0, 3);

    public void Dispose()
    {
        _record.Dispose();
        _staging.Dispose();
    }
}
