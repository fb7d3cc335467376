namespace Mistral.C2F.Engine.Cuda.Emulation;

/// <summary>
/// The emulator's live allocations. Device memory is host memory here, so a copy that runs past its buffer
/// would silently corrupt the process; every host copy is checked against the allocation it starts in.
/// </summary>
internal sealed class EmulatedMemory
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
            $"{operation} of {bytes} bytes at 0x{address:X} is outside every live emulator allocation");
    }
}
