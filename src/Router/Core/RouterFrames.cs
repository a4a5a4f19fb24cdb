using System.Buffers;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

/// <summary>The messages the router writes.</summary>
internal static class RouterFrames
{
    /// <summary>Longest part of a peer's URI that a message quotes back (an invalid one may be megabytes long).</summary>
    private const int QuotedUriLength = 200;

    /// <summary>A peer's URI (or realm name) as an error message quotes it: at most 200 characters.</summary>
    public static string Quote(string? uri) =>
        uri is null ? "" : uri.Length <= QuotedUriLength ? uri : string.Concat(uri.AsSpan(0, QuotedUriLength), "…");

    public static WampFrame Error(WampMessageType requestType, long requestId, string uri, string? message = null) =>
        Error(requestType, requestId, uri, message is null ? WampPayload.Empty : Text(message), WampDict.Empty);

    public static WampFrame Error(WampMessageType requestType, long requestId, string uri, WampPayload payload, WampDict details) =>
        WampFrameWriter.Start(WampMessageType.Error).Id((int)requestType).Id(requestId).Dict(details).String(uri).Payload(payload).ToFrame();

    public static WampFrame Abort(string reason, string message)
    {
        var w = WampFrameWriter.Start(WampMessageType.Abort);
        w.Json.WriteStartObject();
        w.Json.WriteString("message"u8, message);
        w.Json.WriteEndObject();
        return w.String(reason).ToFrame();
    }

    public static WampFrame Goodbye(string reason, string? message = null)
    {
        var w = WampFrameWriter.Start(WampMessageType.Goodbye);
        w.Json.WriteStartObject();
        if (message is not null) w.Json.WriteString("message"u8, message);
        w.Json.WriteEndObject();
        return w.String(reason).ToFrame();
    }

    public static WampFrame Ack(WampMessageType type, long requestId, long id) =>
        WampFrameWriter.Start(type).Id(requestId).Id(id).ToFrame();

    public static WampFrame Ack(WampMessageType type, long requestId) =>
        WampFrameWriter.Start(type).Id(requestId).ToFrame();

    public static WampFrame Result(long requestId, WampPayload payload, bool progress)
    {
        var w = WampFrameWriter.Start(WampMessageType.Result).Id(requestId);
        if (progress)
        {
            w.Json.WriteStartObject();
            w.Json.WriteBoolean("progress"u8, true);
            w.Json.WriteEndObject();
        }
        else
        {
            w.EmptyDict();
        }
        return w.Payload(payload).ToFrame();
    }

    public static WampFrame Interrupt(long invocationId, string mode, string? reason = null)
    {
        var w = WampFrameWriter.Start(WampMessageType.Interrupt).Id(invocationId);
        w.Json.WriteStartObject();
        w.Json.WriteString("mode"u8, mode);
        if (reason is not null) w.Json.WriteString("reason"u8, reason);
        w.Json.WriteEndObject();
        return w.ToFrame();
    }

    /// <summary>A payload of one string argument.</summary>
    public static WampPayload Text(string message) => WampPayload.FromMessage(message);

    /// <summary>A payload of positional arguments written by <paramref name="write"/> (inside the array).</summary>
    public static WampPayload Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            write(w);
            w.WriteEndArray();
        }
        return WampPayload.FromJson(buffer.WrittenMemory, default);
    }
}
