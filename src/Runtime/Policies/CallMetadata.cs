using System.Buffers;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// Call metadata beyond the standard options: the idempotency key as the <c>x_idempotency_key</c> CALL option
/// (routers forward <c>x_</c> options into INVOCATION details), and, for routers that drop them, the same data in
/// the payload as keyword argument <c>x_wampcontracts</c>: <c>{"idempotency_key": "…", "timeout_ms": 200}</c>.
/// </summary>
internal static class CallMetadata
{
    public static ReadOnlySpan<byte> IdempotencyKeyOption => "x_idempotency_key"u8;

    public const string PayloadKeyName = "x_wampcontracts";

    public static ReadOnlySpan<byte> PayloadKey => "x_wampcontracts"u8;

    public static WampPayload AddToPayload(WampPayload payload, string? idempotencyKey, TimeSpan? limit)
    {
        if (idempotencyKey is null && limit is null) return payload;
        var buffer = new ArrayBufferWriter<byte>(64 + payload.KeywordArgumentsJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject(PayloadKey);
            if (idempotencyKey is not null) w.WriteString("idempotency_key"u8, idempotencyKey);
            if (limit is { } l) w.WriteNumber("timeout_ms"u8, TimeLimit.ToWireMilliseconds(l));
            w.WriteEndObject();
            // The caller's own keyword arguments follow, unchanged.
            new WampDict(payload.KeywordArgumentsJson).ForEach(w, static (writer, key, raw) =>
            {
                if (key == PayloadKeyName) return;
                writer.WritePropertyName(key);
                writer.WriteRawValue(raw.Span, skipInputValidation: true);
            });
            w.WriteEndObject();
        }
        var args = payload.HasArguments ? payload.ArgumentsJson : "[]"u8.ToArray();
        return new WampPayload(args, buffer.WrittenMemory);
    }

    public static (string? IdempotencyKey, long? TimeoutMs) FromPayload(WampPayload payload)
    {
        if (!payload.HasKeywordArguments) return (null, null);
        var carried = new WampDict(payload.KeywordArgumentsJson).GetDict(PayloadKey);
        return carried.IsEmpty ? (null, null) : (carried.GetString("idempotency_key"u8), carried.GetInt64("timeout_ms"u8));
    }
}
