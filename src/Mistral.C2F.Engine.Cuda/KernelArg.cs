namespace Mistral.C2F.Engine.Cuda;

/// <summary>
/// One kernel parameter by value: up to 8 bytes (little-endian, so a 4-byte value sits in the low bytes) and
/// its size. A launch passes each parameter's address in a <c>void**</c> array, as cuLaunchKernel's
/// kernelParams; the size is the number of bytes the kernel reads there.
/// </summary>
public readonly struct KernelArg
{
    private readonly ulong _bits;

    private KernelArg(ulong bits, int size, char kind)
    {
        _bits = bits;
        Size = size;
        Kind = kind;
    }

    /// <summary>The parameter's size in bytes (4 or 8).</summary>
    public int Size { get; }

    /// <summary>What the value is, as the emulator spells a C++ parameter: p pointer, f float, d double, i / u int / uint, l / L long / ulong.</summary>
    public char Kind { get; }

    /// <summary>A device address, for a pointer parameter (<c>float*</c>, <c>const __nv_bfloat16*</c> …).</summary>
    public static KernelArg Pointer(ulong address) => new(address, sizeof(ulong), 'p');

    public static implicit operator KernelArg(int value) => new((uint)value, sizeof(int), 'i');

    public static implicit operator KernelArg(uint value) => new(value, sizeof(uint), 'u');

    public static implicit operator KernelArg(long value) => new((ulong)value, sizeof(long), 'l');

    public static implicit operator KernelArg(ulong value) => new(value, sizeof(ulong), 'L');

    public static implicit operator KernelArg(float value) => new(BitConverter.SingleToUInt32Bits(value), sizeof(float), 'f');

    public static implicit operator KernelArg(double value) => new(BitConverter.DoubleToUInt64Bits(value), sizeof(double), 'd');

    internal static string Describe(char kind) => kind switch
    {
        'p' => "a pointer", 'f' => "float", 'd' => "double", 'i' => "int", 'u' => "unsigned int",
        'l' => "long long", 'L' => "unsigned long long", _ => $"a parameter of kind '{kind}'",
    };

    /// <summary>
    /// Fills the launch's parameter array: <paramref name="values"/> holds each argument's bytes and
    /// <paramref name="pointers"/>[i] points at values[i]. Both must be pinned (stack memory) for the launch.
    /// </summary>
    internal static unsafe void Pack(ReadOnlySpan<KernelArg> args, ulong* values, void** pointers)
    {
        for (var i = 0; i < args.Length; i++)
        {
            values[i] = args[i]._bits;
            pointers[i] = values + i;
        }
    }

    public override string ToString() => Size == sizeof(uint) ? $"0x{_bits:X8}" : $"0x{_bits:X16}";
}
