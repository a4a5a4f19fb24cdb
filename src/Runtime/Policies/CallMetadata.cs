using System.Buffers;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// Call metadata beyond the standard options: the idempotency key as the <c>x_idempotency_key</c> CALL option
/// (routers forward <c>x_</c> options into INVOCATION details), and, for routers that drop them, the same data in
/// the payload as keyword argument <c>x_wampcontracts</c>: <c>{"idempotency_key": "…", "timeout_ms": 200,
/// "traceparent": "00-…", "tracestate": "…", "attempt": 2, "metadata": {"x_tenant": "acme"}}</c>.
/// </summary>
internal static class CallMetadata
{
    public static ReadOnlySpan<byte> IdempotencyKeyOption => "x_idempotency_key"u8;

    public const string PayloadKeyName = "x_wampcontracts";

    public static ReadOnlySpan<byte> PayloadKey => "x_wampcontracts"u8;

    /// <summary>The W3C trace context of a call or publication (<c>x_traceparent</c>, <c>x_tracestate</c>).</summary>
    public static ReadOnlySpan<byte> TraceParentOption => "x_traceparent"u8;

    public static ReadOnlySpan<byte> TraceStateOption => "x_tracestate"u8;

    /// <summary>The attempt number of a retried call (sent from the second attempt on).</summary>
    public static ReadOnlySpan<byte> AttemptOption => "x_attempt"u8;

    public static WampPayload AddToPayload(WampPayload payload, string? idempotencyKey, TimeSpan? limit, in CallExtras extras = default)
    {
        if (idempotencyKey is null && limit is null && extras.IsEmpty) return payload;
        var buffer = new ArrayBufferWriter<byte>(64 + payload.KeywordArgumentsJson.Length);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject(PayloadKey);
            if (idempotencyKey is not null) w.WriteString("idempotency_key"u8, idempotencyKey);
            if (limit is { } l) w.WriteNumber("timeout_ms"u8, TimeLimit.ToWireMilliseconds(l));
            if (extras.TraceParent is { } parent) w.WriteString("traceparent"u8, parent);
            if (extras.TraceState is { } state) w.WriteString("tracestate"u8, state);
            if (extras.Attempt > 1) w.WriteNumber("attempt"u8, extras.Attempt);
            if (extras.Metadata is { } metadata)
            {
                w.WriteStartObject("metadata"u8);
                foreach (var (key, value) in metadata) w.WriteString(key, value);
                w.WriteEndObject();
            }
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

    public static Carried FromPayload(WampPayload payload)
    {
        if (!payload.HasKeywordArguments) return default;
        var carried = new WampDict(payload.KeywordArgumentsJson).GetDict(PayloadKey);
        return carried.IsEmpty ? default : new Carried(carried);
    }

    /// <summary>What the payload carrier holds (all empty without one).</summary>
    public readonly struct Carried(WampDict carrier)
    {
        public string? IdempotencyKey => carrier.GetString("idempotency_key"u8);
        public long? TimeoutMs => carrier.GetInt64("timeout_ms"u8);
        public string? TraceParent => carrier.GetString("traceparent"u8);
        public string? TraceState => carrier.GetString("tracestate"u8);
        public long? Attempt => carrier.GetInt64("attempt"u8);
        public WampDict Metadata => carrier.GetDict("metadata"u8);
    }
}

/// <summary>What a call or publication carries beyond the standard options: trace context, attempt, metadata.</summary>
internal readonly struct CallExtras
{
    public string? TraceParent { get; init; }
    public string? TraceState { get; init; }
    public int Attempt { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    public bool IsEmpty => TraceParent is null && Attempt <= 1 && Metadata is null;

    /// <summary>The trace context of the current activity (ours or the application's), in W3C form.</summary>
    public static (string? Parent, string? State) CurrentTraceContext()
    {
        var activity = System.Diagnostics.Activity.Current;
        if (activity is null || activity.IdFormat != System.Diagnostics.ActivityIdFormat.W3C) return (null, null);
        return (activity.Id, activity.TraceStateString);
    }

    /// <summary>Writes the extras as x_ options into an open options object (metadata after <paramref name="written"/>, which wins).</summary>
    public void WriteOptions(System.Text.Json.Utf8JsonWriter w, IReadOnlyDictionary<string, string>? written = null)
    {
        if (TraceParent is { } parent)
        {
            w.WriteString(CallMetadata.TraceParentOption, parent);
            if (TraceState is { } state) w.WriteString(CallMetadata.TraceStateOption, state);
        }
        if (Attempt > 1) w.WriteNumber(CallMetadata.AttemptOption, Attempt);
        if (Metadata is { } metadata)
        {
            foreach (var (key, value) in metadata)
                if (written is null || !written.ContainsKey(key)) w.WriteString(key, value); // a dict's keys are unique
        }
    }
}
