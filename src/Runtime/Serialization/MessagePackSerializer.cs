using System.Buffers.Binary;

namespace WampContracts.Serialization;

/// <summary>
/// <c>wamp.2.msgpack</c>: MessagePack with str and bin apart. A bin becomes WAMP's JSON binary string and back;
/// extension types (timestamps included) have no JSON form and are refused.
/// </summary>
internal sealed class MessagePackSerializer() : BinarySerializer<MessagePackSerializer.Decoder, MessagePackSerializer.Encoder>("wamp.2.msgpack", 2, "msgpack")
{
    internal sealed class Decoder : BinaryDecoder
    {
        protected override string Format => "MessagePack";

        protected override Item ReadItem(ReadOnlySpan<byte> d, ref int p, bool asKey, out long count)
        {
            count = 0;
            byte b = d[p++];
            switch (b)
            {
                case <= 0x7f: Number((long)b, asKey); return Item.Scalar;
                case <= 0x8f: count = b & 0x0f; return Item.Map;
                case <= 0x9f: count = b & 0x0f; return Item.Array;
                case <= 0xbf: Str(d, ref p, b & 0x1f, asKey); return Item.Scalar;
                case 0xc0: Null(asKey); return Item.Scalar;
                case 0xc2: Bool(false, asKey); return Item.Scalar;
                case 0xc3: Bool(true, asKey); return Item.Scalar;
                case 0xc4: Bin(d, ref p, U8(d, ref p), asKey); return Item.Scalar;
                case 0xc5: Bin(d, ref p, U16(d, ref p), asKey); return Item.Scalar;
                case 0xc6: Bin(d, ref p, U32(d, ref p), asKey); return Item.Scalar;
                case 0xca:
                    Need(d, p, 4);
                    Number((double)BinaryPrimitives.ReadSingleBigEndian(d.Slice(p, 4)), asKey);
                    p += 4;
                    return Item.Scalar;
                case 0xcb:
                    Need(d, p, 8);
                    Number(BinaryPrimitives.ReadDoubleBigEndian(d.Slice(p, 8)), asKey);
                    p += 8;
                    return Item.Scalar;
                case 0xcc: Number((long)U8(d, ref p), asKey); return Item.Scalar;
                case 0xcd: Number((long)U16(d, ref p), asKey); return Item.Scalar;
                case 0xce: Number(U32(d, ref p), asKey); return Item.Scalar;
                case 0xcf:
                    Need(d, p, 8);
                    Number(BinaryPrimitives.ReadUInt64BigEndian(d.Slice(p, 8)), asKey);
                    p += 8;
                    return Item.Scalar;
                case 0xd0: Number((long)(sbyte)U8(d, ref p), asKey); return Item.Scalar;
                case 0xd1: Number((long)(short)U16(d, ref p), asKey); return Item.Scalar;
                case 0xd2: Number((long)(int)U32(d, ref p), asKey); return Item.Scalar;
                case 0xd3:
                    Need(d, p, 8);
                    Number(BinaryPrimitives.ReadInt64BigEndian(d.Slice(p, 8)), asKey);
                    p += 8;
                    return Item.Scalar;
                case 0xd9: Str(d, ref p, U8(d, ref p), asKey); return Item.Scalar;
                case 0xda: Str(d, ref p, U16(d, ref p), asKey); return Item.Scalar;
                case 0xdb: Str(d, ref p, U32(d, ref p), asKey); return Item.Scalar;
                case 0xdc: count = U16(d, ref p); return Item.Array;
                case 0xdd: count = U32(d, ref p); return Item.Array;
                case 0xde: count = U16(d, ref p); return Item.Map;
                case 0xdf: count = U32(d, ref p); return Item.Map;
                case >= 0xe0: Number((long)(sbyte)b, asKey); return Item.Scalar;
                case 0xc1:
                    throw new Protocol.WampProtocolException("the MessagePack message has the never-used byte 0xc1");
                default:
                    // 0xc7-0xc9 and 0xd4-0xd8: extension types.
                    throw new Protocol.WampProtocolException($"the MessagePack message has an extension type (0x{b:x2}), which WAMP cannot carry");
            }
        }

        private void Str(ReadOnlySpan<byte> d, ref int p, long length, bool asKey)
        {
            Need(d, p, length);
            String(d.Slice(p, (int)length), asKey);
            p += (int)length;
        }

        private void Bin(ReadOnlySpan<byte> d, ref int p, long length, bool asKey)
        {
            Need(d, p, length);
            Binary(d.Slice(p, (int)length), asKey);
            p += (int)length;
        }

        private static byte U8(ReadOnlySpan<byte> d, ref int p)
        {
            Need(d, p, 1);
            return d[p++];
        }

        private static ushort U16(ReadOnlySpan<byte> d, ref int p)
        {
            Need(d, p, 2);
            var v = BinaryPrimitives.ReadUInt16BigEndian(d.Slice(p, 2));
            p += 2;
            return v;
        }

        private static uint U32(ReadOnlySpan<byte> d, ref int p)
        {
            Need(d, p, 4);
            var v = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(p, 4));
            p += 4;
            return v;
        }
    }

    internal sealed class Encoder : BinaryEncoder
    {
        protected override int HeaderSize(int count) => count < 16 ? 1 : count < 65536 ? 3 : 5;

        protected override void WriteHeader(Span<byte> d, int count, bool map)
        {
            if (count < 16)
            {
                d[0] = (byte)((map ? 0x80 : 0x90) | count);
            }
            else if (count < 65536)
            {
                d[0] = map ? (byte)0xde : (byte)0xdc;
                BigEndian(d[1..], (ushort)count);
            }
            else
            {
                d[0] = map ? (byte)0xdf : (byte)0xdd;
                BigEndian(d[1..], (uint)count);
            }
        }

        protected override void WriteNull()
        {
            Reserve(1)[0] = 0xc0;
            Advance(1);
        }

        protected override void WriteBool(bool value)
        {
            Reserve(1)[0] = value ? (byte)0xc3 : (byte)0xc2;
            Advance(1);
        }

        protected override void WriteInt64(long v)
        {
            if (v >= 0)
            {
                WriteUInt64((ulong)v);
                return;
            }
            var d = Reserve(9);
            if (v >= -32) { d[0] = (byte)(sbyte)v; Advance(1); }
            else if (v >= sbyte.MinValue) { d[0] = 0xd0; d[1] = (byte)(sbyte)v; Advance(2); }
            else if (v >= short.MinValue) { d[0] = 0xd1; BigEndian(d[1..], (ushort)(short)v); Advance(3); }
            else if (v >= int.MinValue) { d[0] = 0xd2; BigEndian(d[1..], (uint)(int)v); Advance(5); }
            else { d[0] = 0xd3; BigEndian(d[1..], (ulong)v); Advance(9); }
        }

        protected override void WriteUInt64(ulong v)
        {
            var d = Reserve(9);
            if (v < 128) { d[0] = (byte)v; Advance(1); }
            else if (v <= byte.MaxValue) { d[0] = 0xcc; d[1] = (byte)v; Advance(2); }
            else if (v <= ushort.MaxValue) { d[0] = 0xcd; BigEndian(d[1..], (ushort)v); Advance(3); }
            else if (v <= uint.MaxValue) { d[0] = 0xce; BigEndian(d[1..], (uint)v); Advance(5); }
            else { d[0] = 0xcf; BigEndian(d[1..], v); Advance(9); }
        }

        protected override void WriteDouble(double value)
        {
            var d = Reserve(9);
            d[0] = 0xcb;
            BinaryPrimitives.WriteDoubleBigEndian(d[1..], value);
            Advance(9);
        }

        protected override void WriteString(ReadOnlySpan<byte> utf8) => Bytes(utf8, 0xa0, 0xd9);

        protected override void WriteBinary(ReadOnlySpan<byte> bytes) => Bytes(bytes, 0, 0xc4);

        /// <summary>A str (fix form when <paramref name="fix"/> is not 0) or bin: 8, 16 and 32-bit lengths follow <paramref name="first8"/>.</summary>
        private void Bytes(ReadOnlySpan<byte> value, byte fix, byte first8)
        {
            int n = value.Length;
            var d = Reserve(5 + n);
            int h;
            if (fix != 0 && n < 32) { d[0] = (byte)(fix | n); h = 1; }
            else if (n <= byte.MaxValue) { d[0] = first8; d[1] = (byte)n; h = 2; }
            else if (n <= ushort.MaxValue) { d[0] = (byte)(first8 + 1); BigEndian(d[1..], (ushort)n); h = 3; }
            else { d[0] = (byte)(first8 + 2); BigEndian(d[1..], (uint)n); h = 5; }
            value.CopyTo(d[h..]);
            Advance(h + n);
        }
    }
}
