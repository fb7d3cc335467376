using System.Buffers.Binary;
using System.Text;

namespace Mistral.C2F.Engine.Tokenization;

/// <summary>
/// The few protobuf wire-format encodings a SentencePiece <c>ModelProto</c> needs: varints, 32-bit floats and
/// length-delimited strings and messages. Fields are written in the order they are called, so output is deterministic.
/// </summary>
internal sealed class ProtobufWriter
{
    private const int VarintWireType = 0, LengthDelimitedWireType = 2, Fixed32WireType = 5;

    private readonly MemoryStream _buffer = new();

    public void WriteInt32(int field, int value)
    {
        WriteTag(field, VarintWireType);
        // Protobuf sign-extends negative int32 to 64 bits (ten bytes), so pad_id = -1 reads back as -1.
        WriteVarint((ulong)(long)value);
    }

    public void WriteBool(int field, bool value) => WriteInt32(field, value ? 1 : 0);

    public void WriteFloat(int field, float value)
    {
        WriteTag(field, Fixed32WireType);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
    }

    public void WriteString(int field, string value) => WriteLengthDelimited(field, Encoding.UTF8.GetBytes(value));

    public void WriteMessage(int field, Action<ProtobufWriter> writeBody)
    {
        var body = new ProtobufWriter();
        writeBody(body);
        WriteLengthDelimited(field, body.ToArray());
    }

    public byte[] ToArray() => _buffer.ToArray();

    private void WriteLengthDelimited(int field, ReadOnlySpan<byte> bytes)
    {
        WriteTag(field, LengthDelimitedWireType);
        WriteVarint((ulong)bytes.Length);
        _buffer.Write(bytes);
    }

    private void WriteTag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}
