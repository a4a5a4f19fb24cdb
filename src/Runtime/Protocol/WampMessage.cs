using System.Text.Json;

namespace WampContracts.Protocol;

/// <summary>
/// One parsed WAMP message. Fields hold what the message type defines (see <see cref="WampMessageParser"/>);
/// the Details/Options dictionary and the application payload stay as the raw UTF-8 JSON they arrived in,
/// slices of <see cref="Raw"/>, so a router can relay them byte for byte and a client parses them only when
/// a typed reader asks.
/// </summary>
internal readonly struct WampMessage
{
    public WampMessageType Type { get; init; }

    /// <summary>First id field: the request id of most messages, the session id of WELCOME, the request type of ERROR, the subscription of EVENT.</summary>
    public long Id1 { get; init; }

    /// <summary>Second id field: ERROR's request id, EVENT's publication, the registration/subscription of an answer.</summary>
    public long Id2 { get; init; }

    /// <summary>The URI (or realm, auth method) of the message, when it has one.</summary>
    public string? Uri { get; init; }

    /// <summary>The Details or Options dictionary as raw JSON (<c>{}</c> when empty).</summary>
    public WampDict Dict { get; init; }

    /// <summary>Positional and keyword arguments as raw JSON; empty when absent.</summary>
    public WampPayload Payload { get; init; }

    /// <summary>The whole message as received.</summary>
    public ReadOnlyMemory<byte> Raw { get; init; }

    public override string ToString() => System.Text.Encoding.UTF8.GetString(Raw.Span);
}

/// <summary>A message failed to parse: the peer broke the protocol.</summary>
public sealed class WampProtocolException(string message) : Exception(message)
{
    /// <summary>
    /// The message may be well-formed but passes a limit of this implementation (its nesting depth): the request it
    /// carries can be refused with ERROR while the session goes on.
    /// </summary>
    public bool ExceedsLimit { get; init; }
}

/// <summary>
/// Parses one WAMP JSON message with <see cref="Utf8JsonReader"/>, validating its shape strictly by type and length,
/// and its text: valid UTF-8 with no escaped unpaired surrogate (<c>"\uD800"</c>) in any string, so every string of
/// a message that parses can be read as a .NET string.
/// </summary>
internal static class WampMessageParser
{
    /// <summary>Largest id WAMP allows (2^53).</summary>
    public const long MaxId = 9007199254740992L;

    /// <summary>
    /// How deeply a message may nest (the message array counts as one level). One limit for the parser and for
    /// every reader of the parts it returns, so whatever parses can also be read: a deeper message is refused
    /// as a whole, never half-read.
    /// </summary>
    public const int MaxDepth = 64;

    /// <summary>Reader options with <see cref="MaxDepth"/>, for every reader of a message or of its parts.</summary>
    internal static JsonReaderOptions ReaderOptions => new() { MaxDepth = MaxDepth };

    // Field kinds of a message after its type code.
    private const byte Id = 1, Dict = 2, Uri = 3, OptionalDict = 4;

    private static ReadOnlySpan<byte> Layout(WampMessageType type, out bool payload)
    {
        payload = false;
        switch (type)
        {
            case WampMessageType.Hello: return [Uri, Dict];
            case WampMessageType.Welcome: return [Id, Dict];
            case WampMessageType.Abort: payload = true; return [Dict, Uri];
            case WampMessageType.Challenge: return [Uri, Dict];
            case WampMessageType.Authenticate: return [Uri, Dict];
            case WampMessageType.Goodbye: return [Dict, Uri];
            case WampMessageType.Error: payload = true; return [Id, Id, Dict, Uri];
            case WampMessageType.Publish: payload = true; return [Id, Dict, Uri];
            case WampMessageType.Published: return [Id, Id];
            case WampMessageType.Subscribe: return [Id, Dict, Uri];
            case WampMessageType.Subscribed: return [Id, Id];
            case WampMessageType.Unsubscribe: return [Id, Id];
            case WampMessageType.Unsubscribed: return [Id, OptionalDict];
            case WampMessageType.Event: payload = true; return [Id, Id, Dict];
            case WampMessageType.Call: payload = true; return [Id, Dict, Uri];
            case WampMessageType.Cancel: return [Id, Dict];
            case WampMessageType.Result: payload = true; return [Id, Dict];
            case WampMessageType.Register: return [Id, Dict, Uri];
            case WampMessageType.Registered: return [Id, Id];
            case WampMessageType.Unregister: return [Id, Id];
            case WampMessageType.Unregistered: return [Id, OptionalDict];
            case WampMessageType.Invocation: payload = true; return [Id, Id, Dict];
            case WampMessageType.Interrupt: return [Id, Dict];
            case WampMessageType.Yield: payload = true; return [Id, Dict];
            default: return default;
        }
    }

    /// <summary>Parses <paramref name="message"/>; the result's slices point into it, so keep it alive and unchanged.</summary>
    /// <exception cref="WampProtocolException">The message is not a well-formed WAMP message.</exception>
    public static WampMessage Parse(ReadOnlyMemory<byte> message)
    {
        try
        {
            return ParseCore(message);
        }
        catch (JsonException e)
        {
            throw new WampProtocolException($"message is not valid JSON: {e.Message}");
        }
    }

    private static WampMessage ParseCore(ReadOnlyMemory<byte> message)
    {
        // Utf8JsonReader checks the JSON grammar but not the encoding: a string with invalid UTF-8 would parse and then
        // fail (InvalidOperationException) in whatever reads it. Refused here, where a refusal is a protocol error.
        if (!System.Text.Unicode.Utf8.IsValid(message.Span))
            throw new WampProtocolException("the message is not valid UTF-8");
        var reader = new Utf8JsonReader(message.Span, ReaderOptions);
        try
        {
            return ParseCore(ref reader, message);
        }
        catch (JsonException) when (reader.CurrentDepth >= MaxDepth - 1)
        {
            throw new WampProtocolException($"the message nests deeper than {MaxDepth} levels") { ExceedsLimit = true };
        }
    }

    private static WampMessage ParseCore(ref Utf8JsonReader reader, ReadOnlyMemory<byte> message)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
            throw new WampProtocolException("a WAMP message must be a JSON array");
        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int code))
            throw new WampProtocolException("a WAMP message must start with an integer message type");

        var type = (WampMessageType)code;
        var layout = Layout(type, out bool hasPayload);
        if (layout.IsEmpty)
            throw new WampProtocolException($"unknown message type {code}");

        long id1 = 0, id2 = 0;
        int ids = 0;
        string? uri = null;
        WampDict dict = WampDict.Empty;
        for (int i = 0; i < layout.Length; i++)
        {
            if (!reader.Read() || reader.TokenType == JsonTokenType.EndArray)
            {
                if (layout[i] == OptionalDict) return Done(ref reader, type, id1, id2, uri, dict, default, message);
                throw new WampProtocolException($"{type} message is too short");
            }
            switch (layout[i])
            {
                case Id:
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long id) || id < 0 || id > MaxId)
                        throw new WampProtocolException($"{type} message has an invalid id at position {i + 1}");
                    if (ids++ == 0) id1 = id; else id2 = id;
                    break;
                case Dict:
                case OptionalDict:
                    dict = ReadDict(ref reader, message, type);
                    break;
                case Uri:
                    if (reader.TokenType != JsonTokenType.String)
                        throw new WampProtocolException($"{type} message has a non-string URI at position {i + 1}");
                    CheckEscapes(ref reader);
                    uri = reader.ValueIsEscaped || reader.HasValueSequence ? reader.GetString() : UriStrings.Get(reader.ValueSpan);
                    break;
            }
        }

        ReadOnlyMemory<byte> args = default, kwargs = default;
        if (hasPayload)
        {
            if (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                args = ReadContainer(ref reader, message, JsonTokenType.StartArray, type, "Arguments");
                if (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    kwargs = ReadContainer(ref reader, message, JsonTokenType.StartObject, type, "ArgumentsKw");
                    reader.Read();
                }
            }
            return Done(ref reader, type, id1, id2, uri, dict, new WampPayload(args, kwargs), message);
        }

        reader.Read();
        return Done(ref reader, type, id1, id2, uri, dict, default, message);
    }

    private static WampMessage Done(ref Utf8JsonReader reader, WampMessageType type, long id1, long id2, string? uri,
        WampDict dict, WampPayload payload, ReadOnlyMemory<byte> raw)
    {
        if (reader.TokenType != JsonTokenType.EndArray)
            throw new WampProtocolException($"{type} message has too many elements");
        if (reader.Read())
            throw new WampProtocolException("trailing data after the message");
        return new WampMessage { Type = type, Id1 = id1, Id2 = id2, Uri = uri, Dict = dict, Payload = payload, Raw = raw };
    }

    private static WampDict ReadDict(ref Utf8JsonReader reader, ReadOnlyMemory<byte> message, WampMessageType type)
    {
        // Tolerant reading: a null Details/Options is taken as an empty dictionary.
        if (reader.TokenType == JsonTokenType.Null) return WampDict.Empty;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new WampProtocolException($"{type} message has a non-dictionary where Details/Options belong");
        int start = (int)reader.TokenStartIndex;
        SkipChecked(ref reader);
        int end = (int)reader.BytesConsumed;
        return end - start == 2 ? WampDict.Empty : new WampDict(message.Slice(start, end - start));
    }

    private static ReadOnlyMemory<byte> ReadContainer(ref Utf8JsonReader reader, ReadOnlyMemory<byte> message,
        JsonTokenType expected, WampMessageType type, string name)
    {
        // Tolerant reading: fox-wamp sends a JSON null where no kwargs were given; null means absent.
        if (reader.TokenType == JsonTokenType.Null) return default;
        if (reader.TokenType != expected)
            throw new WampProtocolException($"{type} message has an invalid {name} element");
        int start = (int)reader.TokenStartIndex;
        SkipChecked(ref reader);
        int end = (int)reader.BytesConsumed;
        return end - start == 2 ? default : message.Slice(start, end - start);
    }

    /// <summary>Skips the container the reader is on, checking the escapes of every string and property name in it.</summary>
    private static void SkipChecked(ref Utf8JsonReader reader)
    {
        int depth = reader.CurrentDepth;
        while (reader.Read() && reader.CurrentDepth > depth)
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) CheckEscapes(ref reader);
        }
    }

    private static void CheckEscapes(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped && !EscapesArePaired(reader.ValueSpan))
            throw new WampProtocolException("the message has a string with an unpaired surrogate escape (\\uD800-\\uDFFF)");
    }

    /// <summary>
    /// True when every <c>\u</c> escape of a UTF-16 surrogate in <paramref name="escaped"/> (a string token's raw bytes,
    /// whose escapes the reader has already checked for shape) is a high surrogate followed at once by a low one. Such a
    /// string cannot become a .NET string: <see cref="Utf8JsonReader.GetString"/> throws on it.
    /// </summary>
    private static bool EscapesArePaired(ReadOnlySpan<byte> escaped)
    {
        bool expectLow = false;
        for (int i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] != (byte)'\\')
            {
                if (expectLow) return false;
                continue;
            }
            if (escaped[++i] != (byte)'u')
            {
                if (expectLow) return false;
                continue;
            }
            int unit = Hex(escaped[i + 1]) << 12 | Hex(escaped[i + 2]) << 8 | Hex(escaped[i + 3]) << 4 | Hex(escaped[i + 4]);
            i += 4;
            bool high = unit is >= 0xD800 and <= 0xDBFF, low = unit is >= 0xDC00 and <= 0xDFFF;
            if (expectLow != low) return false;
            expectLow = high;
        }
        return !expectLow;

        static int Hex(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }

    /// <summary>
    /// Reads what it can from the start of a message that was too large to receive whole: the type, its first two
    /// integers (the request id; for ERROR the request type and request id) and, for PUBLISH, whether the Options
    /// ask for an acknowledgement. Used to answer the request with a clear error. False when the head cannot be read,
    /// or an integer is not a valid id (0 to 2^53).
    /// </summary>
    public static bool TryParseHead(ReadOnlySpan<byte> prefix, out WampMessageType type, out long first, out long second, out bool acknowledge)
    {
        type = default;
        first = second = 0;
        acknowledge = false;
        var reader = new Utf8JsonReader(prefix, isFinalBlock: false, new JsonReaderState(ReaderOptions));
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray) return false;
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out int code)) return false;
            type = (WampMessageType)code;
            // Ids outside WAMP's range are not read: whoever answers the request would echo them in an invalid message.
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out first) || !IsId(first)) return false;
            if (!reader.Read()) return true;
            if (reader.TokenType == JsonTokenType.Number)
            {
                if (reader.TryGetInt64(out second) && !IsId(second)) return false;
            }
            else if (type == WampMessageType.Publish && reader.TokenType == JsonTokenType.StartObject)
            {
                int depth = reader.CurrentDepth;
                while (reader.Read() && reader.CurrentDepth > depth)
                {
                    // A key with an unpaired surrogate escape cannot be compared (ValueTextEquals throws); it is not "acknowledge".
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1 &&
                        (!reader.ValueIsEscaped || EscapesArePaired(reader.ValueSpan)) && reader.ValueTextEquals("acknowledge"u8))
                        acknowledge = reader.Read() && reader.TokenType == JsonTokenType.True;
                }
            }
            return true;
        }
        catch (JsonException)
        {
            return type != default && first != 0;
        }

        static bool IsId(long id) => id is >= 0 and <= MaxId;
    }
}
