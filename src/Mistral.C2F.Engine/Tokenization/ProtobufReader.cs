using System.Buffers.Binary;
using System.Text;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// Reads the protobuf wire format <see cref="ProtobufWriter"/> writes: each field's number with its varint, 32-bit
/// float or length-delimited value, and skips what the caller does not ask for. A truncated or malformed buffer is
/// an <see cref="InvalidDataException"/>.
/// </summary>
internal ref struct ProtobufReader(ReadOnlySpan<byte> buffer)
{
    private const int VarintWireType = 0, Fixed64WireType = 1, LengthDelimitedWireType = 2, Fixed32WireType = 5;

    private readonly ReadOnlySpan<byte> _buffer = buffer;
    private int _position;
    private int _wireType;

    /// <summary>Moves to the next field and gives its number; false at the end of the buffer.</summary>
    public bool TryReadField(out int field)
    {
        field = 0;
        if (_position >= _buffer.Length) return false;
        var tag = ReadVarint();
        (field, _wireType) = ((int)(tag >> 3), (int)(tag & 7));
        if (field <= 0) throw new InvalidDataException($"protobuf field number {tag >> 3} at byte {_position}");
        return true;
    }

    public long ReadInt64() => Expect(VarintWireType) ? (long)ReadVarint() : 0;

    public bool ReadBool() => ReadInt64() != 0;

    public float ReadFloat()
    {
        Expect(Fixed32WireType);
        return BinaryPrimitives.ReadSingleLittleEndian(Take(4));
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    public ReadOnlySpan<byte> ReadBytes()
    {
        Expect(LengthDelimitedWireType);
        var length = ReadVarint();
        return length <= (ulong)(_buffer.Length - _position) ? Take((int)length) : throw Truncated();
    }

    public void Skip()
    {
        switch (_wireType)
        {
            case VarintWireType: ReadVarint(); break;
            case Fixed64WireType: Take(8); break;
            case LengthDelimitedWireType: ReadBytes(); break;
            case Fixed32WireType: Take(4); break;
            default: throw new InvalidDataException($"protobuf wire type {_wireType} at byte {_position}");
        }
    }

    private readonly bool Expect(int wireType) =>
        _wireType == wireType ? true : throw new InvalidDataException($"protobuf wire type {_wireType} where {wireType} was expected");

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _buffer.Length - _position) throw Truncated();
        var bytes = _buffer.Slice(_position, count);
        _position += count;
        return bytes;
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            var b = Take(1)[0];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException($"protobuf varint longer than ten bytes at byte {_position}");
    }

    private readonly InvalidDataException Truncated() => new($"protobuf message truncated at byte {_position} of {_buffer.Length}");
}
