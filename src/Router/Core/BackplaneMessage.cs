using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

/// <summary>What one router node tells the others over the backplane.</summary>
internal enum BackplaneKind : byte
{
    /// <summary>A publication, for the subscribers of every other node.</summary>
    Event = 1,
    /// <summary>A call for a callee of the addressed node.</summary>
    Call = 2,
    /// <summary>A RESULT (progressive or final) or ERROR for a caller of the addressed node.</summary>
    Answer = 3,
    /// <summary>A CANCEL (or the caller left, or its node gave up) for a call running on the addressed node.</summary>
    Cancel = 4,
    /// <summary>A callee of the sending node registered or unregistered.</summary>
    Registration = 5,
    /// <summary>A node asks for every registration (the addressed node's, or everyone's).</summary>
    SyncRequest = 6,
}

/// <summary>
/// The one place where backplane messages are written and read: an 18-byte head (version, kind, sending node, addressed
/// node or 0 for all) and a JSON body. Payloads travel as their bytes with a serializer tag (<c>"s"</c>), so a router that
/// speaks several serializers can relay them without converting here.
/// </summary>
internal sealed class BackplaneMessage
{
    private const byte Version = 1;
    private const int HeadLength = 18;
    private const string JsonSerializerTag = "json";

    public BackplaneKind Kind { get; init; }
    public long From { get; init; }
    public long To { get; init; }
    public string Realm { get; init; } = "";

    /// <summary>Topic or procedure URI.</summary>
    public string? Uri { get; init; }
    /// <summary>Publication id, or the call's id on its caller's node.</summary>
    public long Id { get; init; }
    /// <summary>The publisher or caller (Event, Call), or the callee (Call, Registration).</summary>
    public long Session { get; init; }
    public long Target { get; init; }
    public string? AuthId { get; init; }
    public string? AuthRole { get; init; }
    public bool Flag { get; init; }
    public bool Flag2 { get; init; }
    /// <summary>PUBLISH or CALL options (raw JSON dictionary), or an answer frame.</summary>
    public ReadOnlyMemory<byte> Raw { get; init; }
    public WampPayload Payload { get; init; }
    /// <summary>Cancel mode; registration match and invoke policy.</summary>
    public string? Text { get; init; }
    public string? Text2 { get; init; }

    /// <summary>Writes the message.</summary>
    public byte[] Encode()
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        var head = buffer.GetSpan(HeadLength);
        head[0] = Version;
        head[1] = (byte)Kind;
        BinaryPrimitives.WriteInt64LittleEndian(head[2..], From);
        BinaryPrimitives.WriteInt64LittleEndian(head[10..], To);
        buffer.Advance(HeadLength);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("r"u8, Realm);
            if (Uri is not null) w.WriteString("u"u8, Uri);
            if (Id != 0) w.WriteNumber("i"u8, Id);
            if (Session != 0) w.WriteNumber("ss"u8, Session);
            if (Target != 0) w.WriteNumber("tg"u8, Target);
            if (AuthId is not null) w.WriteString("ai"u8, AuthId);
            if (AuthRole is not null) w.WriteString("ar"u8, AuthRole);
            if (Flag) w.WriteBoolean("f1"u8, true);
            if (Flag2) w.WriteBoolean("f2"u8, true);
            if (Text is not null) w.WriteString("x1"u8, Text);
            if (Text2 is not null) w.WriteString("x2"u8, Text2);
            if (!Raw.IsEmpty)
            {
                w.WritePropertyName("o"u8);
                w.WriteRawValue(Raw.Span, skipInputValidation: true);
            }
            if (!Payload.ArgumentsJson.IsEmpty || !Payload.KeywordArgumentsJson.IsEmpty)
            {
                w.WriteStartObject("p"u8);
                w.WriteString("s"u8, JsonSerializerTag);
                if (!Payload.ArgumentsJson.IsEmpty)
                {
                    w.WritePropertyName("a"u8);
                    w.WriteRawValue(Payload.ArgumentsJson.Span, skipInputValidation: true);
                }
                if (!Payload.KeywordArgumentsJson.IsEmpty)
                {
                    w.WritePropertyName("k"u8);
                    w.WriteRawValue(Payload.KeywordArgumentsJson.Span, skipInputValidation: true);
                }
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The head only: who sent it and to whom (so a node skips what is not for it without reading the body).</summary>
    public static bool TryReadHead(ReadOnlySpan<byte> message, out BackplaneKind kind, out long from, out long to)
    {
        kind = default;
        from = to = 0;
        if (message.Length < HeadLength || message[0] != Version) return false;
        kind = (BackplaneKind)message[1];
        from = BinaryPrimitives.ReadInt64LittleEndian(message[2..]);
        to = BinaryPrimitives.ReadInt64LittleEndian(message[10..]);
        return true;
    }

    /// <summary>Reads a message; throws <see cref="FormatException"/> for one that is not well formed.</summary>
    public static BackplaneMessage Decode(ReadOnlyMemory<byte> message)
    {
        if (!TryReadHead(message.Span, out var kind, out long from, out long to))
            throw new FormatException("not a backplane message of version 1");
        try
        {
            using var doc = JsonDocument.Parse(message[HeadLength..]);
            var root = doc.RootElement;
            var payload = WampPayload.Empty;
            if (root.TryGetProperty("p"u8, out var p))
            {
                string tag = p.GetProperty("s"u8).GetString() ?? "";
                if (tag != JsonSerializerTag) throw new FormatException($"payload serializer '{tag}' is not known here");
                payload = WampPayload.FromJson(RawOf(p, "a"u8), RawOf(p, "k"u8));
            }
            return new BackplaneMessage
            {
                Kind = kind,
                From = from,
                To = to,
                Realm = root.GetProperty("r"u8).GetString() ?? "",
                Uri = StringOf(root, "u"u8),
                Id = Int64Of(root, "i"u8),
                Session = Int64Of(root, "ss"u8),
                Target = Int64Of(root, "tg"u8),
                AuthId = StringOf(root, "ai"u8),
                AuthRole = StringOf(root, "ar"u8),
                Flag = root.TryGetProperty("f1"u8, out var f1) && f1.GetBoolean(),
                Flag2 = root.TryGetProperty("f2"u8, out var f2) && f2.GetBoolean(),
                Text = StringOf(root, "x1"u8),
                Text2 = StringOf(root, "x2"u8),
                Raw = RawOf(root, "o"u8),
                Payload = payload,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            throw new FormatException($"malformed backplane message: {e.Message}", e);
        }
    }

    private static string? StringOf(JsonElement e, ReadOnlySpan<byte> name) =>
        e.TryGetProperty(name, out var v) ? v.GetString() : null;

    private static long Int64Of(JsonElement e, ReadOnlySpan<byte> name) =>
        e.TryGetProperty(name, out var v) ? v.GetInt64() : 0;

    private static ReadOnlyMemory<byte> RawOf(JsonElement e, ReadOnlySpan<byte> name) =>
        e.TryGetProperty(name, out var v) ? Encoding.UTF8.GetBytes(v.GetRawText()) : default;
}

internal static class BackplaneSending
{
    /// <summary>
    /// Hands <paramref name="message"/> to the backplane: a task that completes when the backplane has taken it and
    /// faults (never throws at once) when it could not.
    /// </summary>
    public static Task SendAsync(this Backplane.IWampBackplane backplane, BackplaneMessage message)
    {
        try
        {
            return backplane.BroadcastAsync(message.Encode());
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }
}
