using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Serialization;

/// <summary>
/// Writes JSON into a binary format with length-prefixed containers (MessagePack, CBOR) in one pass over the JSON:
/// values go into a body buffer, and each container's position and element count are noted; the output is then the
/// body with each container's header (now that its count is known, in its shortest form) spliced in. One reused
/// instance per thread; use it synchronously.
/// </summary>
internal abstract class BinaryEncoder
{
    private byte[] _body = new byte[1024];
    private int _length;
    private Header[] _headers = new Header[32];
    private int _headerCount;
    private readonly int[] _open = new int[WampMessageParser.MaxDepth + 1];
    private byte[] _scratch = new byte[256];

    private struct Header
    {
        public int Position;
        public int Count;
        public bool Map;
    }

    // The format's encodings. Each writes at Reserve()'s position.
    protected abstract int HeaderSize(int count);
    protected abstract void WriteHeader(Span<byte> destination, int count, bool map);
    protected abstract void WriteNull();
    protected abstract void WriteBool(bool value);
    protected abstract void WriteInt64(long value);
    protected abstract void WriteUInt64(ulong value);
    protected abstract void WriteDouble(double value);
    protected abstract void WriteString(ReadOnlySpan<byte> utf8);
    protected abstract void WriteBinary(ReadOnlySpan<byte> bytes);

    /// <summary>Room for <paramref name="size"/> bytes at the end of the body; call <see cref="Advance"/> after writing.</summary>
    protected Span<byte> Reserve(int size)
    {
        if (_body.Length - _length < size)
            Array.Resize(ref _body, (int)Math.Min(Array.MaxLength, Math.Max(_body.Length * 2L, (long)_length + size)));
        return _body.AsSpan(_length, size);
    }

    protected void Advance(int count) => _length += count;

    public int Encode(ReadOnlySpan<byte> json, ref byte[] output, int offset)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = WampMessageParser.MaxDepth });
        try
        {
            Transcode(ref reader);
        }
        catch (JsonException e)
        {
            throw new WampProtocolException($"message is not valid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            throw new WampProtocolException($"message has a value that cannot be transcoded: {e.Message}");
        }
        return Assemble(ref output, offset);
    }

    /// <summary>
    /// Encodes the head of a message (JSON that stops before its payload, the message's array still open) and appends
    /// <paramref name="elements"/> payload elements that are already encoded.
    /// </summary>
    public int EncodeSplice(ReadOnlySpan<byte> jsonHead, ReadOnlySpan<byte> nativePayload, int elements, ref byte[] output, int offset)
    {
        var reader = new Utf8JsonReader(jsonHead, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = WampMessageParser.MaxDepth }));
        int depth;
        try
        {
            depth = Transcode(ref reader);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new WampProtocolException($"the head of the message cannot be transcoded: {e.Message}");
        }
        // The head must end with the message's array open and complete up to there (no value cut short).
        if (depth != 1 || reader.BytesConsumed != jsonHead.Length)
            throw new WampProtocolException("the head of the message does not end where its payload starts");
        _headers[_open[0]].Count += elements;
        nativePayload.CopyTo(Reserve(nativePayload.Length));
        Advance(nativePayload.Length);
        return Assemble(ref output, offset);
    }

    /// <summary>
    /// Writes every JSON token <paramref name="reader"/> yields in the format (the body; headers are counted as they
    /// close); returns the depth left open (0 for a whole message). JSON's binary strings become the format's binary.
    /// </summary>
    private int Transcode(ref Utf8JsonReader reader)
    {
        _length = 0;
        _headerCount = 0;
        int depth = 0;
        while (reader.Read())
        {
            var token = reader.TokenType;
            if (token is JsonTokenType.EndArray or JsonTokenType.EndObject)
            {
                depth--;
                continue;
            }
            if (depth > 0)
            {
                ref var h = ref _headers[_open[depth - 1]];
                if (!h.Map || token == JsonTokenType.PropertyName) h.Count++;
            }
            switch (token)
            {
                case JsonTokenType.StartArray:
                case JsonTokenType.StartObject:
                    if (_headerCount == _headers.Length) Array.Resize(ref _headers, _headers.Length * 2);
                    _headers[_headerCount] = new Header { Position = _length, Map = token == JsonTokenType.StartObject };
                    _open[depth++] = _headerCount++;
                    break;
                case JsonTokenType.PropertyName:
                    WriteString(Unescaped(ref reader));
                    break;
                case JsonTokenType.String:
                    var text = Unescaped(ref reader);
                    if (text.Length > 0 && text[0] == 0 && TryDecodeBase64(text[1..], out var bytes)) WriteBinary(bytes);
                    else WriteString(text);
                    break;
                case JsonTokenType.Number:
                    if (reader.TryGetInt64(out long l)) WriteInt64(l);
                    else if (reader.TryGetUInt64(out ulong u)) WriteUInt64(u);
                    else WriteDouble(reader.TryGetDouble(out double d) ? d : OutOfRange(reader.ValueSpan));
                    break;
                case JsonTokenType.True: WriteBool(true); break;
                case JsonTokenType.False: WriteBool(false); break;
                case JsonTokenType.Null: WriteNull(); break;
                default: throw new WampProtocolException($"unexpected JSON token {token}");
            }
        }
        return depth;
    }

    private int Assemble(ref byte[] output, int offset)
    {
        long total = offset + (long)_length;
        for (int i = 0; i < _headerCount; i++) total += HeaderSize(_headers[i].Count);
        if (total > Array.MaxLength) throw new WampProtocolException("message too large to transcode");
        if (output.Length < total) Array.Resize(ref output, (int)Math.Max(total, Math.Min(Array.MaxLength, output.Length * 2L)));
        var source = _body.AsSpan(0, _length);
        var target = output.AsSpan(offset);
        int from = 0, to = 0;
        for (int i = 0; i < _headerCount; i++)
        {
            ref var h = ref _headers[i];
            int n = h.Position - from;
            source.Slice(from, n).CopyTo(target[to..]);
            to += n;
            from = h.Position;
            int size = HeaderSize(h.Count);
            WriteHeader(target.Slice(to, size), h.Count, h.Map);
            to += size;
        }
        source[from..].CopyTo(target[to..]);
        to += source.Length - from;
        // Do not keep a huge body alive on this thread.
        if (_body.Length > 1 << 20) _body = new byte[1024];
        return to;
    }

    /// <summary>A JSON number past double's range (<c>1e400</c>): infinity, as JavaScript's and Python's JSON readers take it.</summary>
    private static double OutOfRange(ReadOnlySpan<byte> number) =>
        double.Parse(System.Text.Encoding.UTF8.GetString(number), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);

    private ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped) return reader.ValueSpan;
        if (_scratch.Length < reader.ValueSpan.Length) _scratch = new byte[Math.Max(reader.ValueSpan.Length, _scratch.Length * 2)];
        int n = reader.CopyString(_scratch);
        return _scratch.AsSpan(0, n);
    }

    private byte[] _binary = new byte[256];

    private bool TryDecodeBase64(ReadOnlySpan<byte> base64, out ReadOnlySpan<byte> bytes)
    {
        int max = Base64.GetMaxDecodedFromUtf8Length(base64.Length);
        if (_binary.Length < max) _binary = new byte[Math.Max(max, _binary.Length * 2)];
        var status = Base64.DecodeFromUtf8(base64, _binary, out int consumed, out int written);
        bytes = _binary.AsSpan(0, written);
        return status == OperationStatus.Done && consumed == base64.Length;
    }

    /// <summary>Big-endian helpers for the formats.</summary>
    protected static void BigEndian(Span<byte> d, ushort v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(d, v);
    protected static void BigEndian(Span<byte> d, uint v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(d, v);
    protected static void BigEndian(Span<byte> d, ulong v) => System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(d, v);
}
