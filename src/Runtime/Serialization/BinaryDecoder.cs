using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Serialization;

/// <summary>
/// Reads one value of a binary format (MessagePack, CBOR) and writes it as JSON, without recursion: the containers
/// being read are kept on a stack of at most <see cref="MaxNesting"/> levels. Every length is checked against the
/// bytes left before anything is read or allocated, so no input can make it read past the message or allocate more
/// than a bounded multiple of the message's size. One reused instance per thread; use it synchronously.
/// </summary>
internal abstract class BinaryDecoder
{
    /// <summary>
    /// How deeply a binary message may nest to be transcoded at all. Above the parser's <see cref="WampMessageParser.MaxDepth"/>,
    /// so a message between the two limits is transcoded and then refused by the parser as exceeding a limit (an ERROR
    /// for its request), as the same message in JSON would be; a deeper one is malformed.
    /// </summary>
    internal const int MaxNesting = 256;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private ArrayBufferWriter<byte> _output = new(1024);
    private Utf8JsonWriter _writer;
    private readonly long[] _remaining = new long[MaxNesting];
    private readonly byte[] _flags = new byte[MaxNesting];
    private byte[] _scratch = new byte[256];

    private const byte MapFlag = 1, KeyNextFlag = 2, IndefiniteFlag = 4;

    protected BinaryDecoder() => _writer = new Utf8JsonWriter(_output, WriterOptions);

    protected Utf8JsonWriter Writer => _writer;

    /// <summary>What <see cref="ReadItem"/> found.</summary>
    protected enum Item { Scalar, Array, Map, Break }

    /// <summary>
    /// Reads the item at <paramref name="position"/>. A scalar is written to <see cref="Writer"/> (as a property name when
    /// <paramref name="asKey"/>; a key that is not a string throws). A container's header gives its element count
    /// (pairs for a map), or -1 for an indefinite one that ends with <see cref="Item.Break"/>.
    /// </summary>
    protected abstract Item ReadItem(ReadOnlySpan<byte> data, ref int position, bool asKey, out long count);

    /// <summary>The format's name for messages.</summary>
    protected abstract string Format { get; }

    public byte[] ToJson(ReadOnlySpan<byte> data) => Run(data, partial: false);

    // Where the first top-level elements start, in the message and in its JSON (for the payload's native form).
    private const int TrackedElements = 8;
    private readonly int[] _nativeStarts = new int[TrackedElements];
    private readonly int[] _jsonStarts = new int[TrackedElements];
    private int _topLevelElements;

    /// <summary>
    /// Like <see cref="ToJson"/>; for a message with a payload (CALL, INVOCATION, YIELD, RESULT, PUBLISH, EVENT, ERROR),
    /// the JSON is backed by a <see cref="TranscodedMessage"/> that keeps the payload's native bytes.
    /// </summary>
    public ReadOnlyMemory<byte> ToJsonMessage(ReadOnlySpan<byte> data, WampSerializer serializer)
    {
        byte[] json = Run(data, partial: false);
        int count = Math.Min(_topLevelElements, TrackedElements);
        if (count < 2) return json;
        int index = PayloadIndex(json);
        if (index < 0 || index >= count || count > index + 2 || _topLevelElements > TrackedElements) return json;
        var native = data[_nativeStarts[index]..].ToArray();
        return new TranscodedMessage(json, serializer, native, _jsonStarts[index], count == index + 2 ? _jsonStarts[index + 1] : -1).Memory;
    }

    /// <summary>The position of Arguments in a message of the type the JSON starts with; -1 for types without a payload.</summary>
    private static int PayloadIndex(ReadOnlySpan<byte> json)
    {
        int type = 0, i = 1;
        for (; i < json.Length && i < 4 && json[i] is >= (byte)'0' and <= (byte)'9'; i++) type = type * 10 + json[i] - '0';
        if (i >= json.Length || json[i] != ',') return -1;
        return (Protocol.WampMessageType)type switch
        {
            Protocol.WampMessageType.Error => 5,
            Protocol.WampMessageType.Publish or Protocol.WampMessageType.Event or Protocol.WampMessageType.Call or Protocol.WampMessageType.Invocation => 4,
            Protocol.WampMessageType.Result or Protocol.WampMessageType.Yield => 3,
            _ => -1,
        };
    }

    public byte[] ToJsonHead(ReadOnlySpan<byte> data)
    {
        try
        {
            return Run(data, partial: true);
        }
        catch (WampProtocolException)
        {
            return [];
        }
    }

    private byte[] Run(ReadOnlySpan<byte> data, bool partial)
    {
        _writer.Reset();
        _output.ResetWrittenCount();
        try
        {
            Transcode(data, partial);
            _writer.Flush();
            return _output.WrittenSpan.ToArray();
        }
        catch (Truncated) when (partial)
        {
            _writer.Flush();
            return _output.WrittenSpan.ToArray();
        }
        catch (Truncated)
        {
            throw new WampProtocolException($"the {Format} message ends in the middle of a value");
        }
        finally
        {
            _writer.Reset();
            if (_output.Capacity > 1 << 20) ResetOutput();
        }
    }

    private void ResetOutput()
    {
        // ArrayBufferWriter cannot shrink: a buffer grown by a message of many megabytes is not kept on this thread.
        _output = new ArrayBufferWriter<byte>(1024);
        _writer = new Utf8JsonWriter(_output, WriterOptions);
    }

    private void Transcode(ReadOnlySpan<byte> data, bool partial)
    {
        int position = 0;
        int depth = 0;
        _topLevelElements = 0;
        while (true)
        {
            if (depth > 0)
            {
                int top = depth - 1;
                if ((_flags[top] & IndefiniteFlag) == 0 && _remaining[top] == 0)
                {
                    EndContainer(top);
                    depth--;
                    if (depth == 0) break;
                    continue;
                }
            }
            bool asKey = depth > 0 && (_flags[depth - 1] & (MapFlag | KeyNextFlag)) == (MapFlag | KeyNextFlag);
            if (position >= data.Length) throw new Truncated();
            int start = position;
            long written = _writer.BytesCommitted + _writer.BytesPending;
            var item = ReadItem(data, ref position, asKey, out long count);
            if (depth == 1 && item != Item.Break)
            {
                int e = _topLevelElements++;
                if (e < TrackedElements)
                {
                    // The writer puts a comma before every element but the first, and no white space.
                    _nativeStarts[e] = start;
                    _jsonStarts[e] = (int)written + (e > 0 ? 1 : 0);
                }
            }
            if (item == Item.Break)
            {
                int top = depth - 1;
                if (depth == 0 || (_flags[top] & IndefiniteFlag) == 0 || ((_flags[top] & MapFlag) != 0 && !asKey))
                    throw new WampProtocolException($"the {Format} message has a break where no indefinite-length container can end");
                EndContainer(top);
                depth--;
                if (depth == 0) break;
                continue;
            }
            if (depth > 0)
            {
                int top = depth - 1;
                _remaining[top]--;
                _flags[top] ^= (byte)((_flags[top] & MapFlag) != 0 ? KeyNextFlag : 0);
            }
            if (item == Item.Scalar)
            {
                if (depth == 0) break;
                continue;
            }
            if (asKey) throw new WampProtocolException($"the {Format} message has a map key that is not a string");
            if (depth == MaxNesting) throw new WampProtocolException($"the {Format} message nests deeper than {MaxNesting} levels");
            bool map = item == Item.Map;
            if (count >= 0)
            {
                // Every element takes at least one byte: a count past what is left is a lie, found before anything is read.
                long elements = map ? count * 2 : count;
                if (elements > data.Length - position && !partial)
                    throw new WampProtocolException($"the {Format} message declares {count} elements but holds fewer bytes");
                _remaining[depth] = elements;
            }
            _flags[depth] = (byte)((map ? MapFlag | KeyNextFlag : 0) | (count < 0 ? IndefiniteFlag : 0));
            if (map) _writer.WriteStartObject(); else _writer.WriteStartArray();
            depth++;
        }
        if (position != data.Length && !partial)
            throw new WampProtocolException($"trailing data after the {Format} message");
    }

    private void EndContainer(int level)
    {
        if ((_flags[level] & MapFlag) != 0) _writer.WriteEndObject(); else _writer.WriteEndArray();
    }

    /// <summary>Writes a UTF-8 string (checked) as a value or a property name.</summary>
    protected void String(ReadOnlySpan<byte> utf8, bool asKey)
    {
        if (!System.Text.Unicode.Utf8.IsValid(utf8))
            throw new WampProtocolException($"the {Format} message has a string that is not valid UTF-8");
        if (asKey) _writer.WritePropertyName(utf8); else _writer.WriteStringValue(utf8);
    }

    /// <summary>Writes bytes as WAMP's JSON binary string: U+0000 followed by Base64.</summary>
    protected void Binary(ReadOnlySpan<byte> bytes, bool asKey)
    {
        if (asKey) throw new WampProtocolException($"the {Format} message has a map key that is not a string");
        int size = 1 + Base64.GetMaxEncodedToUtf8Length(bytes.Length);
        if (_scratch.Length < size) _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
        _scratch[0] = 0;
        Base64.EncodeToUtf8(bytes, _scratch.AsSpan(1), out _, out int written);
        _writer.WriteStringValue(_scratch.AsSpan(0, 1 + written));
    }

    protected void Number(long value, bool asKey)
    {
        NotKey(asKey);
        _writer.WriteNumberValue(value);
    }

    protected void Number(ulong value, bool asKey)
    {
        NotKey(asKey);
        _writer.WriteNumberValue(value);
    }

    protected void Number(double value, bool asKey)
    {
        NotKey(asKey);
        if (!double.IsFinite(value))
            throw new WampProtocolException($"the {Format} message has a number JSON cannot carry ({value})");
        // -0 is written as 0: JSON peers read both alike, and "-0" would read back as an integer anyway.
        _writer.WriteNumberValue(value == 0 ? 0.0 : value);
    }

    protected void Bool(bool value, bool asKey)
    {
        NotKey(asKey);
        _writer.WriteBooleanValue(value);
    }

    protected void Null(bool asKey)
    {
        NotKey(asKey);
        _writer.WriteNullValue();
    }

    protected void NotKey(bool asKey)
    {
        if (asKey) throw new WampProtocolException($"the {Format} message has a map key that is not a string");
    }

    /// <summary>Checks that <paramref name="count"/> bytes are left at <paramref name="position"/>.</summary>
    protected static void Need(ReadOnlySpan<byte> data, int position, long count)
    {
        if (count > data.Length - position) throw new Truncated();
    }

    /// <summary>The message ends inside a value (malformed; for a head, where reading stops).</summary>
    protected sealed class Truncated : Exception;
}
