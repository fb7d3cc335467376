namespace Mistral.C2F.Engine.Backends;

/// <summary>
/// What a device backend asked of its device, counted where the backend meets the device: allocations and frees
/// that reached the device (not those a caching allocator served), waits of the host for the device (downloads and
/// synchronizations), bytes copied each way, and kernel launches (fills included). The difference of two snapshots
/// is one step's work.
/// </summary>
public sealed record DeviceCounts(long Allocations, long Frees, long HostSyncs, long HostToDeviceBytes, long DeviceToHostBytes, long Launches)
{
    public static DeviceCounts operator -(DeviceCounts after, DeviceCounts before) => new(
        after.Allocations - before.Allocations, after.Frees - before.Frees, after.HostSyncs - before.HostSyncs,
        after.HostToDeviceBytes - before.HostToDeviceBytes, after.DeviceToHostBytes - before.DeviceToHostBytes, after.Launches - before.Launches);
}
