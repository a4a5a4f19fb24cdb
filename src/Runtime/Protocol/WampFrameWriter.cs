using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace WampContracts.Protocol;

/// <summary>A serialized WAMP message ready to send. Pooled frames return their buffer after sending.</summary>
internal readonly struct WampFrame
{
    private readonly byte[] _array;
    private readonly int _length;
    private readonly bool _pooled;

    internal WampFrame(byte[] array, int length, bool pooled)
    {
        _array = array;
        _length = length;
        _pooled = pooled;
    }

    public ReadOnlyMemory<byte> Memory => new(_array, 0, _length);

    /// <summary>The payload as a binary peer sent it, for a peer of the same serializer (see <see cref="Serialization.TranscodedMessage"/>); null for most frames.</summary>
    internal Serialization.NativeSplice? Native { get; init; }

    /// <summary>Returns a pooled buffer; the frame must not be used afterwards. Shared (unpooled) frames ignore it.</summary>
    public void Release()
    {
        if (_pooled) ArrayPool<byte>.Shared.Return(_array);
    }

    public override string ToString() => System.Text.Encoding.UTF8.GetString(_array, 0, _length);
}

/// <summary>
/// Writes one WAMP message into a reused per-thread buffer, then copies it out as a <see cref="WampFrame"/>.
/// Use it synchronously from <see cref="Start"/> to <see cref="ToFrame"/>: no await in between.
/// </summary>
internal sealed class WampFrameWriter
{
    [ThreadStatic] private static WampFrameWriter? t_cached;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // WAMP URIs and dictionary keys are ASCII; payloads are copied raw. No HTML escaping is wanted on the wire.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;
    private Serialization.NativeSplice? _native;

    private WampFrameWriter() => _json = new Utf8JsonWriter(_buffer, WriterOptions);

    /// <summary>Starts a message of the given type.</summary>
    public static WampFrameWriter Start(WampMessageType type)
    {
        var w = t_cached ?? new WampFrameWriter();
        t_cached = null;
        w._native = null;
        w._json.WriteStartArray();
        w._json.WriteNumberValue((int)type);
        return w;
    }

    /// <summary>The JSON writer, for writing a Details/Options dictionary in place.</summary>
    public Utf8JsonWriter Json => _json;

    public WampFrameWriter Id(long id)
    {
        _json.WriteNumberValue(id);
        return this;
    }

    public WampFrameWriter String(string value)
    {
        _json.WriteStringValue(value);
        return this;
    }

    public WampFrameWriter EmptyDict()
    {
        _json.WriteStartObject();
        _json.WriteEndObject();
        return this;
    }

    public WampFrameWriter Dict(WampDict dict)
    {
        _json.WriteRawValue(dict.Json.Span, skipInputValidation: true);
        return this;
    }

    public WampFrameWriter Raw(ReadOnlySpan<byte> json)
    {
        _json.WriteRawValue(json, skipInputValidation: true);
        return this;
    }

    /// <summary>Writes the payload tail: nothing, <c>args</c>, or <c>args, kwargs</c> (with <c>[]</c> for missing args).</summary>
    public WampFrameWriter Payload(WampPayload payload)
    {
        // A payload that arrived in MessagePack or CBOR keeps its bytes for peers of the same serializer (a type check
        // that fails at once for JSON).
        if (Serialization.TranscodedMessage.Of(payload) is { } native)
        {
            _json.Flush();
            _native = new Serialization.NativeSplice(native, (int)_json.BytesCommitted);
        }
        if (payload.HasKeywordArguments)
        {
            if (payload.HasArguments) _json.WriteRawValue(payload.ArgumentsJson.Span, skipInputValidation: true);
            else { _json.WriteStartArray(); _json.WriteEndArray(); }
            _json.WriteRawValue(payload.KeywordArgumentsJson.Span, skipInputValidation: true);
        }
        else if (payload.HasArguments)
        {
            _json.WriteRawValue(payload.ArgumentsJson.Span, skipInputValidation: true);
        }
        return this;
    }

    /// <summary>Ends the message and copies it out. <paramref name="pooled"/> frames must be released after sending;
    /// unpooled ones may be shared by many receivers.</summary>
    public WampFrame ToFrame(bool pooled = true)
    {
        _json.WriteEndArray();
        _json.Flush();
        var written = _buffer.WrittenSpan;
        byte[] array = pooled ? ArrayPool<byte>.Shared.Rent(written.Length) : new byte[written.Length];
        written.CopyTo(array);
        var frame = new WampFrame(array, written.Length, pooled) { Native = _native };
        _native = null;

        _json.Reset();
        if (_buffer.Capacity > 1 << 20) { t_cached = null; return frame; } // do not keep a huge buffer alive
        _buffer.ResetWrittenCount();
        t_cached = this;
        return frame;
    }
}
