using WampContracts.Protocol;

namespace WampContracts.Serialization;

/// <summary>
/// A WAMP serializer: JSON (<c>wamp.2.json</c>), MessagePack (<c>wamp.2.msgpack</c>) or CBOR (<c>wamp.2.cbor</c>).
/// </summary>
/// <remarks>
/// The session and the router work on JSON: a message's Details and payload stay raw UTF-8 JSON slices. A binary
/// serializer transcodes a whole message at the transport's edge, token by token with no object model: on receive
/// into JSON (a MessagePack bin or CBOR byte string becomes WAMP's JSON binary string, <c>"\u0000"</c> + Base64),
/// on send from JSON (such a string becomes bin or a byte string again). JSON itself is never transcoded: a JSON
/// transport checks the serializer once per message and passes the bytes through. See docs/wire-format.md.
/// </remarks>
public abstract class WampSerializer
{
    private protected WampSerializer(string subprotocol, byte rawSocketId, string name)
    {
        Subprotocol = subprotocol;
        RawSocketId = rawSocketId;
        Name = name;
    }

    /// <summary>JSON: text WebSocket messages, binary as <c>"\u0000"</c> + Base64 strings.</summary>
    public static WampSerializer Json { get; } = new JsonSerializer();

    /// <summary>MessagePack (with str and bin apart): binary WebSocket messages.</summary>
    public static WampSerializer MessagePack { get; } = new MessagePackSerializer();

    /// <summary>CBOR (RFC 8949): binary WebSocket messages.</summary>
    public static WampSerializer Cbor { get; } = new CborSerializer();

    /// <summary>Every serializer, in the order a router prefers them when a client offers several: JSON, MessagePack, CBOR.</summary>
    public static IReadOnlyList<WampSerializer> All { get; } = [Json, MessagePack, Cbor];

    /// <summary>The WebSocket subprotocol: <c>wamp.2.json</c>, <c>wamp.2.msgpack</c> or <c>wamp.2.cbor</c>.</summary>
    public string Subprotocol { get; }

    /// <summary>The serializer's number in the RawSocket handshake: 1 JSON, 2 MessagePack, 3 CBOR.</summary>
    public byte RawSocketId { get; }

    /// <summary>A short name: <c>json</c>, <c>msgpack</c>, <c>cbor</c>.</summary>
    public string Name { get; }

    /// <summary>True when messages travel as bytes that must be transcoded to and from JSON.</summary>
    public bool IsBinary => this is not JsonSerializer;

    /// <summary>The serializer of a WebSocket subprotocol, or null for one this library does not speak.</summary>
    public static WampSerializer? FromSubprotocol(string? subprotocol)
    {
        foreach (var s in All)
            if (s.Subprotocol == subprotocol) return s;
        return null;
    }

    /// <summary>The serializer of a RawSocket handshake number, or null for one this library does not speak.</summary>
    public static WampSerializer? FromRawSocketId(int id)
    {
        foreach (var s in All)
            if (s.RawSocketId == id) return s;
        return null;
    }

    /// <summary>
    /// Transcodes one message in this serializer's format into JSON (a new array). The JSON form is at most about six
    /// times as large as the message (a one-byte control character becomes <c>\u0001</c>).
    /// </summary>
    /// <exception cref="WampProtocolException">The bytes are not one well-formed value of this format, or hold a
    /// value JSON cannot carry (NaN, an extension type, a map key that is not a string, invalid UTF-8).</exception>
    public abstract byte[] ToJson(ReadOnlySpan<byte> message);

    /// <summary>
    /// Transcodes as much of the start of a message as can be read into the start of its JSON form, for a message
    /// too large to receive whole (its head names the request to refuse). Never throws; empty when nothing can be read.
    /// </summary>
    public abstract byte[] ToJsonHead(ReadOnlySpan<byte> prefix);

    /// <summary>
    /// Transcodes one JSON message (as the session and router write them) into this serializer's format, into
    /// <paramref name="buffer"/> from <paramref name="offset"/> on (the array is replaced by a larger one, its first
    /// <paramref name="offset"/> bytes copied, when it is too small). Returns the length written after the offset.
    /// </summary>
    /// <exception cref="WampProtocolException">The JSON is malformed.</exception>
    public abstract int FromJson(ReadOnlySpan<byte> json, ref byte[] buffer, int offset = 0);

    public override string ToString() => Subprotocol;

    /// <summary>
    /// <see cref="ToJson"/> for a transport: a binary serializer's JSON keeps the payload's native bytes
    /// (<see cref="TranscodedMessage"/>), so a peer of the same serializer gets them as they came.
    /// </summary>
    internal virtual ReadOnlyMemory<byte> ToJsonMessage(ReadOnlySpan<byte> message) => ToJson(message);

    /// <summary>
    /// Writes a message whose head is <paramref name="jsonHead"/> (the JSON message up to its payload, which is left out)
    /// followed by <paramref name="elements"/> payload elements already in this serializer's format.
    /// </summary>
    internal virtual int FromJsonSplice(ReadOnlySpan<byte> jsonHead, ReadOnlySpan<byte> nativePayload, int elements, ref byte[] buffer, int offset) =>
        throw new NotSupportedException();

    /// <summary>Writes a frame (JSON, maybe with a native payload to splice in) in this serializer's format.</summary>
    internal int FromFrame(ReadOnlySpan<byte> json, NativeSplice? native, ref byte[] buffer, int offset)
    {
        if (native is { } splice && ReferenceEquals(splice.Source.Serializer, this))
        {
            try
            {
                return FromJsonSplice(json[..splice.JsonOffset], splice.Source.NativePayload, splice.Source.Elements, ref buffer, offset);
            }
            catch (WampProtocolException)
            {
                // A head that does not end where the payload starts: transcode the whole message instead.
            }
        }
        return FromJson(json, ref buffer, offset);
    }

    private sealed class JsonSerializer() : WampSerializer("wamp.2.json", 1, "json")
    {
        public override byte[] ToJson(ReadOnlySpan<byte> message) => message.ToArray();

        public override byte[] ToJsonHead(ReadOnlySpan<byte> prefix) => prefix.ToArray();

        public override int FromJson(ReadOnlySpan<byte> json, ref byte[] buffer, int offset = 0)
        {
            if (buffer.Length - offset < json.Length) Array.Resize(ref buffer, offset + json.Length);
            json.CopyTo(buffer.AsSpan(offset));
            return json.Length;
        }
    }
}
