using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace WampContracts.Transport;

/// <summary>The pieces of RFC 6455 framing: opcodes, headers, masking.</summary>
internal static class WebSocketFraming
{
    public const int Continuation = 0x0, Text = 0x1, Binary = 0x2, Close = 0x8, Ping = 0x9, Pong = 0xA;

    /// <summary>The longest header: 2 bytes, a 64-bit length, a masking key.</summary>
    public const int MaxHeaderLength = 14;

    /// <summary>The longest payload of a control frame.</summary>
    public const int MaxControlPayload = 125;

    /// <summary>Close status codes used here.</summary>
    public const ushort NormalClosure = 1000, ProtocolError = 1002, MessageTooBig = 1009;

    /// <summary>The header's length for a payload of <paramref name="length"/> bytes.</summary>
    public static int HeaderLength(long length, bool masked) => (length < 126 ? 2 : length <= ushort.MaxValue ? 4 : 10) + (masked ? 4 : 0);

    /// <summary>Writes a final frame's header; returns its length. With <paramref name="mask"/>, the key follows the length.</summary>
    public static int WriteHeader(Span<byte> header, int opcode, long length, uint? mask)
    {
        header[0] = (byte)(0x80 | opcode);
        byte maskBit = mask is null ? (byte)0 : (byte)0x80;
        int at;
        if (length < 126)
        {
            header[1] = (byte)(maskBit | length);
            at = 2;
        }
        else if (length <= ushort.MaxValue)
        {
            header[1] = (byte)(maskBit | 126);
            BinaryPrimitives.WriteUInt16BigEndian(header[2..], (ushort)length);
            at = 4;
        }
        else
        {
            header[1] = (byte)(maskBit | 127);
            BinaryPrimitives.WriteUInt64BigEndian(header[2..], (ulong)length);
            at = 10;
        }
        if (mask is { } key)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header[at..], key);
            at += 4;
        }
        return at;
    }

    /// <summary>
    /// XORs <paramref name="data"/> with the masking key (its four bytes as they appear on the wire, read as a
    /// little-endian integer), starting at byte <paramref name="offset"/> of the key's cycle: masking and unmasking alike.
    /// </summary>
    public static void Mask(Span<byte> data, uint key, int offset)
    {
        // The key rotated so that data[0] meets key byte (offset % 4), then repeated over 8 bytes.
        uint rotated = BitOperations.RotateRight(key, 8 * (offset & 3));
        ulong pattern = rotated | (ulong)rotated << 32;
        int i = 0;
        if (Vector.IsHardwareAccelerated && data.Length >= Vector<byte>.Count)
        {
            var vector = new Vector<ulong>(pattern).As<ulong, byte>();
            var blocks = MemoryMarshal.Cast<byte, Vector<byte>>(data);
            for (int b = 0; b < blocks.Length; b++) blocks[b] ^= vector;
            i = blocks.Length * Vector<byte>.Count;
        }
        var words = MemoryMarshal.Cast<byte, ulong>(data[i..]);
        for (int w = 0; w < words.Length; w++) words[w] ^= pattern;
        i += words.Length * 8;
        for (int shift = 0; i < data.Length; i++, shift += 8) data[i] ^= (byte)(pattern >> shift);
    }

    // Masking keys must be unpredictable (RFC 6455 §5.3): drawn from the system's cryptographic generator, a block at a
    // time per thread, so a frame costs no call into it.
    [ThreadStatic] private static byte[]? t_keys;
    [ThreadStatic] private static int t_next;

    /// <summary>A fresh masking key.</summary>
    public static uint NewMaskKey()
    {
        var keys = t_keys;
        int next = t_next;
        if (keys is null || next >= keys.Length)
        {
            keys = t_keys ??= new byte[1024];
            RandomNumberGenerator.Fill(keys);
            next = 0;
        }
        t_next = next + 4;
        return BinaryPrimitives.ReadUInt32LittleEndian(keys.AsSpan(next));
    }
}
