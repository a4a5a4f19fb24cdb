using System.Buffers.Binary;
using WampContracts.Protocol;

namespace WampContracts.Serialization;

/// <summary>
/// <c>wamp.2.cbor</c>: CBOR (RFC 8949). A byte string becomes WAMP's JSON binary string and back. Read: definite and
/// indefinite lengths, half, single and double floats, <c>undefined</c> as null, tags skipped (the tagged value is
/// kept). Written: definite lengths in their shortest form, doubles as doubles.
/// </summary>
internal sealed class CborSerializer() : BinarySerializer<CborSerializer.Decoder, CborSerializer.Encoder>("wamp.2.cbor", 3, "cbor")
{
    internal sealed class Decoder : BinaryDecoder
    {
        /// <summary>Most tags one value may carry (each is skipped; a chain of them is a way to spin, not data).</summary>
        private const int MaxTags = 16;

        private byte[] _chunks = new byte[256];

        protected override string Format => "CBOR";

        protected override Item ReadItem(ReadOnlySpan<byte> d, ref int p, bool asKey, out long count)
        {
            count = 0;
            int tags = 0;
            while (true)
            {
                byte b = d[p++];
                int major = b >> 5, info = b & 0x1f;
                if (major == 7)
                {
                    switch (info)
                    {
                        case 20: Bool(false, asKey); return Item.Scalar;
                        case 21: Bool(true, asKey); return Item.Scalar;
                        case 22: case 23: Null(asKey); return Item.Scalar;
                        case 25:
                            Need(d, p, 2);
                            Number((double)BinaryPrimitives.ReadHalfBigEndian(d.Slice(p, 2)), asKey);
                            p += 2;
                            return Item.Scalar;
                        case 26:
                            Need(d, p, 4);
                            Number((double)BinaryPrimitives.ReadSingleBigEndian(d.Slice(p, 4)), asKey);
                            p += 4;
                            return Item.Scalar;
                        case 27:
                            Need(d, p, 8);
                            Number(BinaryPrimitives.ReadDoubleBigEndian(d.Slice(p, 8)), asKey);
                            p += 8;
                            return Item.Scalar;
                        case 31: return Item.Break;
                        default: throw new WampProtocolException($"the CBOR message has a simple value ({b:x2}) JSON cannot carry");
                    }
                }
                if (info == 31)
                {
                    count = -1;
                    switch (major)
                    {
                        case 2: Binary(Chunks(d, ref p, 2), asKey); return Item.Scalar;
                        case 3: String(Chunks(d, ref p, 3), asKey); return Item.Scalar;
                        case 4: return Item.Array;
                        case 5: return Item.Map;
                        default: throw new WampProtocolException($"the CBOR message has an indefinite length on major type {major}");
                    }
                }
                ulong argument = Argument(d, ref p, info);
                switch (major)
                {
                    case 0: Number(argument, asKey); return Item.Scalar;
                    case 1:
                        NotKey(asKey);
                        if (argument <= long.MaxValue) Writer.WriteNumberValue(-1 - (long)argument);
                        else Writer.WriteNumberValue(-1.0 - argument); // past long: a double, as JSON peers would read it
                        return Item.Scalar;
                    case 2:
                        Need(d, p, (long)Math.Min(argument, int.MaxValue + 1UL));
                        Binary(d.Slice(p, (int)argument), asKey);
                        p += (int)argument;
                        return Item.Scalar;
                    case 3:
                        Need(d, p, (long)Math.Min(argument, int.MaxValue + 1UL));
                        String(d.Slice(p, (int)argument), asKey);
                        p += (int)argument;
                        return Item.Scalar;
                    case 4:
                    case 5:
                        if (argument > int.MaxValue) throw new WampProtocolException("the CBOR message declares more elements than it can hold");
                        count = (long)argument;
                        return major == 4 ? Item.Array : Item.Map;
                    default: // 6: a tag; its value follows.
                        if (++tags > MaxTags) throw new WampProtocolException($"the CBOR message has more than {MaxTags} tags on one value");
                        if (p >= d.Length) throw new Truncated();
                        continue;
                }
            }
        }

        /// <summary>The argument of an initial byte: inline (0-23) or in the 1, 2, 4 or 8 bytes that follow.</summary>
        private static ulong Argument(ReadOnlySpan<byte> d, ref int p, int info)
        {
            ulong v;
            switch (info)
            {
                case < 24: return (ulong)info;
                case 24: Need(d, p, 1); v = d[p]; p += 1; return v;
                case 25: Need(d, p, 2); v = BinaryPrimitives.ReadUInt16BigEndian(d.Slice(p, 2)); p += 2; return v;
                case 26: Need(d, p, 4); v = BinaryPrimitives.ReadUInt32BigEndian(d.Slice(p, 4)); p += 4; return v;
                case 27: Need(d, p, 8); v = BinaryPrimitives.ReadUInt64BigEndian(d.Slice(p, 8)); p += 8; return v;
                default: throw new WampProtocolException($"the CBOR message has a reserved length encoding ({info})");
            }
        }

        /// <summary>An indefinite-length byte or text string: definite chunks of the same major type until a break.</summary>
        private ReadOnlySpan<byte> Chunks(ReadOnlySpan<byte> d, ref int p, int major)
        {
            int length = 0;
            while (true)
            {
                Need(d, p, 1);
                byte b = d[p++];
                if (b == 0xff) return _chunks.AsSpan(0, length);
                if (b >> 5 != major || (b & 0x1f) == 31)
                    throw new WampProtocolException("the CBOR message has an indefinite-length string with a chunk of another type");
                ulong n = Argument(d, ref p, b & 0x1f);
                Need(d, p, (long)Math.Min(n, int.MaxValue + 1UL));
                // The chunks together are never longer than the message, so this buffer is bounded by it.
                if (_chunks.Length - length < (int)n) Array.Resize(ref _chunks, Math.Max(length + (int)n, _chunks.Length * 2));
                d.Slice(p, (int)n).CopyTo(_chunks.AsSpan(length));
                length += (int)n;
                p += (int)n;
            }
        }
    }

    internal sealed class Encoder : BinaryEncoder
    {
        protected override int HeaderSize(int count) => ArgumentSize((ulong)count);

        protected override void WriteHeader(Span<byte> d, int count, bool map) => Head(d, map ? 5 : 4, (ulong)count);

        protected override void WriteNull() => Simple(0xf6);

        protected override void WriteBool(bool value) => Simple(value ? (byte)0xf5 : (byte)0xf4);

        protected override void WriteInt64(long value)
        {
            if (value >= 0) WriteUInt64((ulong)value);
            else Argument(1, (ulong)(-1 - value));
        }

        protected override void WriteUInt64(ulong value) => Argument(0, value);

        protected override void WriteDouble(double value)
        {
            var d = Reserve(9);
            d[0] = 0xfb;
            BinaryPrimitives.WriteDoubleBigEndian(d[1..], value);
            Advance(9);
        }

        protected override void WriteString(ReadOnlySpan<byte> utf8) => Bytes(3, utf8);

        protected override void WriteBinary(ReadOnlySpan<byte> bytes) => Bytes(2, bytes);

        private void Simple(byte b)
        {
            Reserve(1)[0] = b;
            Advance(1);
        }

        private void Argument(int major, ulong value)
        {
            int size = ArgumentSize(value);
            Head(Reserve(size), major, value);
            Advance(size);
        }

        private void Bytes(int major, ReadOnlySpan<byte> value)
        {
            int size = ArgumentSize((ulong)value.Length);
            var d = Reserve(size + value.Length);
            Head(d, major, (ulong)value.Length);
            value.CopyTo(d[size..]);
            Advance(size + value.Length);
        }

        private static int ArgumentSize(ulong v) => v < 24 ? 1 : v <= byte.MaxValue ? 2 : v <= ushort.MaxValue ? 3 : v <= uint.MaxValue ? 5 : 9;

        private static void Head(Span<byte> d, int major, ulong v)
        {
            byte m = (byte)(major << 5);
            if (v < 24) d[0] = (byte)(m | (int)v);
            else if (v <= byte.MaxValue) { d[0] = (byte)(m | 24); d[1] = (byte)v; }
            else if (v <= ushort.MaxValue) { d[0] = (byte)(m | 25); BigEndian(d[1..], (ushort)v); }
            else if (v <= uint.MaxValue) { d[0] = (byte)(m | 26); BigEndian(d[1..], (uint)v); }
            else { d[0] = (byte)(m | 27); BigEndian(d[1..], v); }
        }
    }
}
