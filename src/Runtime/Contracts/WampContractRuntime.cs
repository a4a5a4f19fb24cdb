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
            {
                var handler = p.Method.Idempotent || p.Method.IdempotencyKeyParameter >= 0 ? Deduplicated(session, p.Method, p.Handler) : p.Handler;
                handles.Add(await session.RegisterAsync(p.Method.Uri, handler, null, cancellationToken).ConfigureAwait(false));
            }
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

    /// <summary>The idempotency key the caller sent, if any.</summary>
    public static string? IdempotencyKey(WampInvocation invocation) => invocation.IdempotencyKey;

    /// <summary>The idempotency key the caller sent, read as a <see cref="Guid"/>.</summary>
    public static Guid? IdempotencyKeyGuid(WampInvocation invocation) =>
        Guid.TryParse(invocation.IdempotencyKey, out var key) ? key : null;

    private static WampCallOptions? OptionsFor(WampMethodDescriptor method, string? idempotencyKey)
    {
        // One key per logical call of an [Idempotent] method: time-ordered and unique (UUIDv7).
        if (idempotencyKey is null && method.Idempotent) idempotencyKey = Guid.CreateVersion7().ToString();
        if (idempotencyKey is null)
            return method.Timeout is null ? null : method.CallOptions ??= new WampCallOptions { Timeout = method.Timeout };
        return new WampCallOptions { Timeout = method.Timeout, IdempotencyKey = idempotencyKey };
    }

    /// <summary>
    /// Wraps the handler of an idempotent procedure (or one with a key parameter) so that a call whose key was seen
    /// before replays the first completion instead of running again: a result or an application error is stored; the
    /// same key with other arguments is refused; the same key while the first runs waits for its outcome.
    /// </summary>
    private static WampProcedureHandler Deduplicated(WampSession session, WampMethodDescriptor method, WampProcedureHandler handler) =>
        async (invocation, cancellationToken) =>
        {
            if (invocation.IdempotencyKey is not { } key) return await handler(invocation, cancellationToken).ConfigureAwait(false);
            var store = session.Options.IdempotencyStore;
            // Keys are scoped by procedure, and by caller identity when the router discloses it.
            string scope = invocation.CallerAuthId is { } who ? invocation.Procedure + "|" + who : invocation.Procedure;
            var request = new IdempotencyRequest(scope, key, IdempotencyRequest.FingerprintOf(invocation.Payload));
            while (true)
            {
                var claim = await store.TryClaimAsync(request, cancellationToken).ConfigureAwait(false);
                switch (claim.Kind)
                {
                    case IdempotencyClaimKind.Completed:
                        var outcome = claim.Outcome!;
                        if (outcome.IsError) throw new WampException(outcome.ErrorUri!, outcome.Payload);
                        return outcome.Payload;
                    case IdempotencyClaimKind.Mismatch:
                        throw new WampException(WampPolicyErrors.IdempotencyKeyReused,
                            $"idempotency key '{key}' was already used for '{method.Uri}' with different arguments");
                    case IdempotencyClaimKind.InFlight:
                        await claim.Running!.WaitAsync(cancellationToken).ConfigureAwait(false);
                        continue; // completed (replay) or released (run it)
                }
                WampPayload result;
                try
                {
                    result = await handler(invocation, cancellationToken).ConfigureAwait(false);
                }
                catch (WampException e)
                {
                    await store.CompleteAsync(request, IdempotencyOutcome.FromError(e), CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
                catch
                {
                    // Canceled, timed out or crashed: not a completion. A retry may run the work again.
                    await store.ReleaseAsync(request, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
                await store.CompleteAsync(request, IdempotencyOutcome.FromResult(result), CancellationToken.None).ConfigureAwait(false);
                return result;
            }
        };
}
