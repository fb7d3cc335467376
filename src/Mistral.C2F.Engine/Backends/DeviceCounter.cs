namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// The running totals behind <see cref="DeviceCounts"/>, kept by a device backend where it meets its device: each call
/// that reaches the device adds itself here. One backend is driven by one thread, so the totals need no locks.
/// </summary>
public sealed class DeviceCounter
{
    private long _allocations, _frees, _syncs, _uploaded, _downloaded, _launches;

    public DeviceCounts Counts => new(_allocations, _frees, _syncs, _uploaded, _downloaded, _launches);

    public void Allocated() => _allocations++;

    public void Freed() => _frees++;

    /// <summary>A wait of the host for the device (a download, a synchronisation).</summary>
    public void Synced() => _syncs++;

    public void Uploaded(long bytes) => _uploaded += bytes;

    public void Downloaded(long bytes) => _downloaded += bytes;

    /// <summary>A kernel launch or a device-side fill.</summary>
    public void Launched() => _launches++;
}
