namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// A device's live allocations. A copy that runs past its buffer would silently overwrite a neighbour (on the
/// emulator, whose device memory is host memory, any part of the process), so every host copy and fill is
/// checked against the allocation it starts in; disposing a device frees what its buffers did not.
/// </summary>
internal sealed class DeviceAllocations
{
    private readonly SortedList<ulong, long> _allocations = [];

    public void Add(ulong address, long bytes) => _allocations.Add(address, bytes);

    /// <summary>False when the address was already freed (a buffer disposed after its device).</summary>
    public bool Remove(ulong address) => _allocations.Remove(address);

    public IEnumerable<ulong> Addresses => _allocations.Keys;

    /// <summary>Throws unless [address, address + bytes) lies inside one live allocation.</summary>
    public void CheckRange(ulong address, long bytes, string operation)
    {
        var keys = _allocations.Keys;
        int lo = 0, hi = keys.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (keys[mid] <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        if (found >= 0 && address + (ulong)bytes <= keys[found] + (ulong)_allocations.Values[found]) return;
        throw new ArgumentOutOfRangeException(nameof(address),
            $"{operation} of {bytes} bytes at 0x{address:X} is outside every live allocation of the device");
    }
}
