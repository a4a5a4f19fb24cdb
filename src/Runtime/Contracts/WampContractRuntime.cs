using System.ComponentModel;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace WampContracts;

/// <summary>A procedure of a generated callee stub: its descriptor and the handler that calls the implementation.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct WampProcedureBinding(WampMethodDescriptor Method, WampProcedureHandler Handler);

/// <summary>A topic of a generated subscriber: its descriptor and the handler that calls the implementation.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct WampEventBinding(WampMethodDescriptor Method, WampEventHandler Handler);

/// <summary>
/// The small runtime surface generated proxies, stubs, publishers and subscribers are written against.
/// Not meant to be called by hand.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class WampContractRuntime
{
    /// <summary>The session's JSON metadata for <typeparamref name="T"/> (source-generated when the session's options say so).</summary>
    public static JsonTypeInfo<T> TypeInfo<T>(WampSession session) =>
        (JsonTypeInfo<T>)session.Options.JsonSerializerOptions.GetTypeInfo(typeof(T));

    /// <summary>Calls a procedure and reads its first positional result as <typeparamref name="T"/>.</summary>
    public static async Task<T> CallAsync<T>(WampSession session, WampMethodDescriptor method, WampPayload arguments, JsonTypeInfo<T> resultType,
        string? idempotencyKey, CancellationToken cancellationToken)
    {
        WampResult result;
        try
        {
            result = await session.CallAsync(method.Uri, arguments, OptionsFor(method, idempotencyKey), cancellationToken).ConfigureAwait(false);
        }
        catch (WampException e)
        {
            throw WampContractRegistry.Map(e);
        }
        return ReadResult(result.Payload, resultType, method);
    }

    /// <summary>Calls a procedure that returns nothing.</summary>
    public static async Task CallAsync(WampSession session, WampMethodDescriptor method, WampPayload arguments, string? idempotencyKey, CancellationToken cancellationToken)
    {
        try
        {
            await session.CallAsync(method.Uri, arguments, OptionsFor(method, idempotencyKey), cancellationToken).ConfigureAwait(false);
        }
        catch (WampException e)
        {
            throw WampContractRegistry.Map(e);
        }
    }

    /// <summary>
    /// Calls a procedure with progressive results: each progressive result's first argument is an item; the final
    /// result ends the stream.
    /// </summary>
    public static async IAsyncEnumerable<T> StreamAsync<T>(WampSession session, WampMethodDescriptor method, WampPayload arguments, JsonTypeInfo<T> itemType,
        string? idempotencyKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var results = session.StreamAsync(method.Uri, arguments, OptionsFor(method, idempotencyKey), cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            WampResult r;
            try
            {
                if (!await results.MoveNextAsync().ConfigureAwait(false)) yield break;
                r = results.Current;
            }
            catch (WampException e)
            {
                throw WampContractRegistry.Map(e);
            }
            // Progressive results are the items; the final result only ends the stream (a generated callee sends
            // it empty; other peers may put a summary there, which has no place in a stream of T).
            if (r.IsProgress)
                yield return ReadResult(r.Payload, itemType, method);
        }
    }

    /// <summary>Publishes one event of an events contract.</summary>
    public static async Task PublishAsync(WampSession session, WampMethodDescriptor method, WampPayload arguments, CancellationToken cancellationToken) =>
        await session.PublishAsync(method.Uri, arguments, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Registers every procedure of a callee stub; disposing the result unregisters them all.</summary>
    public static async Task<IAsyncDisposable> RegisterAsync(WampSession session, IReadOnlyList<WampProcedureBinding> procedures, CancellationToken cancellationToken)
    {
        var handles = new List<IAsyncDisposable>(procedures.Count);
        try
        {
            foreach (var p in procedures)
                handles.Add(await session.RegisterAsync(p.Method.Uri, p.Handler, null, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await WampContractHandle.DisposeAllAsync(handles).ConfigureAwait(false);
            throw;
        }
        return new WampContractHandle(handles);
    }

    /// <summary>Subscribes every topic of a subscriber dispatcher; disposing the result unsubscribes them all.</summary>
    public static async Task<IAsyncDisposable> SubscribeAsync(WampSession session, IReadOnlyList<WampEventBinding> events, CancellationToken cancellationToken)
    {
        var handles = new List<IAsyncDisposable>(events.Count);
        try
        {
            foreach (var e in events)
                handles.Add(await session.SubscribeAsync(e.Method.Uri, e.Handler, null, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await WampContractHandle.DisposeAllAsync(handles).ConfigureAwait(false);
            throw;
        }
        return new WampContractHandle(handles);
    }

    /// <summary>A callee's final result: one positional argument.</summary>
    public static WampPayload Result<T>(T value, JsonTypeInfo<T> type) => new WampPayloadBuilder().AddArgument(value, type).Build();

    /// <summary>
    /// Sends each item of a callee's stream as a progressive result and ends with an empty final result. A caller that
    /// did not ask for progressive results gets all items at once, as one list.
    /// </summary>
    public static async ValueTask<WampPayload> StreamResultsAsync<T>(WampInvocation invocation, IAsyncEnumerable<T> items, JsonTypeInfo<T> itemType, CancellationToken cancellationToken)
    {
        if (invocation.ReceiveProgress)
        {
            await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
                await invocation.SendProgressAsync(Result(item, itemType), cancellationToken).ConfigureAwait(false);
            return WampPayload.Empty;
        }
        var all = new WampPayloadBuilder();
        var list = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(list))
        {
            writer.WriteStartArray();
            await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
                JsonSerializer.Serialize(writer, item, itemType);
            writer.WriteEndArray();
        }
        return all.AddRawArgument(list.WrittenSpan).Build();
    }

    /// <summary>Reads positional argument <paramref name="index"/> for a callee parameter (required: missing is an error).</summary>
    public static T Argument<T>(WampInvocation invocation, int index, JsonTypeInfo<T> type) => invocation.Payload.GetArgument(index, type);

    /// <summary>Reads positional argument <paramref name="index"/>, or <paramref name="defaultValue"/> when the caller sent fewer.</summary>
    public static T Argument<T>(WampInvocation invocation, int index, JsonTypeInfo<T> type, T defaultValue) =>
        invocation.Payload.GetArgumentOrDefault(index, type, defaultValue);

    /// <summary>Reads positional argument <paramref name="index"/> of an event (missing: <paramref name="defaultValue"/>).</summary>
    public static T Argument<T>(WampEvent @event, int index, JsonTypeInfo<T> type, T defaultValue) =>
        @event.Payload.GetArgumentOrDefault(index, type, defaultValue);

    private static T ReadResult<T>(WampPayload payload, JsonTypeInfo<T> type, WampMethodDescriptor method)
    {
        if (!payload.HasArguments) return default!; // a procedure that answered with no value
        try
        {
            return payload.GetArgument(0, type);
        }
        catch (WampException e)
        {
            throw new WampException(WampContracts.Protocol.WampUris.InvalidArgument, $"the result of '{method.Uri}' does not fit {typeof(T).Name}: {e.Message}");
        }
    }

    /// <summary>The idempotency key the caller sent (<c>x_idempotency_key</c>), if any.</summary>
    public static string? IdempotencyKey(WampInvocation invocation) => invocation.Details.GetString(IdempotencyKeyOption);

    /// <summary>The idempotency key the caller sent, read as a <see cref="Guid"/>.</summary>
    public static Guid? IdempotencyKeyGuid(WampInvocation invocation) =>
        Guid.TryParse(IdempotencyKey(invocation), out var key) ? key : null;

    private static ReadOnlySpan<byte> IdempotencyKeyOption => "x_idempotency_key"u8;

    private static WampCallOptions? OptionsFor(WampMethodDescriptor method, string? idempotencyKey)
    {
        if (idempotencyKey is null)
            return method.Timeout is null ? null : method.CallOptions ??= new WampCallOptions { Timeout = method.Timeout };
        // A key given for this call travels as a custom CALL option (see docs/wire-format.md).
        return new WampCallOptions
        {
            Timeout = method.Timeout,
            CustomOptions = new Dictionary<string, string> { ["x_idempotency_key"] = JsonSerializer.Serialize(idempotencyKey, WampRuntimeJsonContext.Default.String) },
        };
    }
}
