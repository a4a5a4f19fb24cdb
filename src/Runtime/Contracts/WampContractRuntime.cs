using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
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

    /// <summary>The default options' JSON metadata for <typeparamref name="T"/>: how the data of [WampError] exceptions is written and read.</summary>
    public static JsonTypeInfo<T> TypeInfo<T>() => (JsonTypeInfo<T>)WampJson.DefaultOptions.GetTypeInfo(typeof(T));

    /// <summary>A [WampError] exception's property, read back from the keyword argument <paramref name="name"/> (default when missing).</summary>
    public static T ErrorData<T>(WampException error, string name, JsonTypeInfo<T> type) => error.Payload.GetKeywordArgument(name, type, default!);

    /// <summary>Calls a procedure and reads its first positional result as <typeparamref name="T"/>.</summary>
    public static Task<T> CallAsync<T>(WampSession session, WampMethodDescriptor method, WampPayload arguments, JsonTypeInfo<T> resultType,
        string? idempotencyKey, CancellationToken cancellationToken) =>
        CallWithPoliciesAsync(session, method, arguments, resultType, idempotencyKey, cancellationToken)!;

    /// <summary>Calls a procedure that returns nothing.</summary>
    public static Task CallAsync(WampSession session, WampMethodDescriptor method, WampPayload arguments, string? idempotencyKey, CancellationToken cancellationToken) =>
        CallWithPoliciesAsync<object>(session, method, arguments, resultType: null, idempotencyKey, cancellationToken);

    /// <summary>
    /// One logical call: its first attempt here, and when that fails transiently, the retries (<see cref="RetryAsync{T}"/>).
    /// The result is read here (default without <paramref name="resultType"/>), so a proxy's call is one small state
    /// machine: what only a retry needs stays out of it.
    /// </summary>
    private static async Task<T?> CallWithPoliciesAsync<T>(WampSession session, WampMethodDescriptor method, WampPayload arguments,
        JsonTypeInfo<T>? resultType, string? idempotencyKey, CancellationToken cancellationToken)
    {
        // One key per logical call of an [Idempotent] method: time-ordered and unique (UUIDv7), reused by every retry.
        if (idempotencyKey is null && method.Idempotent) idempotencyKey = Guid.CreateVersion7().ToString();
        long started = session.Options.TimeProvider.GetTimestamp();
        // The first attempt is awaited on the call itself, and its outcome read without throwing: the common, successful
        // call makes no task and no exception frame, and what its state machine keeps is the retry's inputs only.
        await FirstAttempt(session, method, arguments, idempotencyKey, cancellationToken, out var attempt).ConfigureAwait(false);
        var error = attempt.Error;
        var payload = error is null ? attempt.Result.Payload : default;
        attempt.Release();
        if (error is not null)
            return await AfterFirstFailureAsync(error, session, method, arguments, resultType, idempotencyKey, started, cancellationToken).ConfigureAwait(false);
        session.RetryThrottle.OnSuccess();
        return resultType is null ? default : ReadResult(payload, resultType, method);
    }

    /// <summary>A first attempt that failed: retried when the failure is transient, else its error as the caller sees it.</summary>
    private static Task<T?> AfterFirstFailureAsync<T>(Exception failure, WampSession session, WampMethodDescriptor method, WampPayload arguments,
        JsonTypeInfo<T>? resultType, string? idempotencyKey, long started, CancellationToken cancellationToken)
    {
        var policy = PolicyFor(session, method);
        if (IsTransient(failure, policy, session.Options.TimeProvider.GetElapsedTime(started)))
            return RetryAsync(failure, policy, session, method, arguments, resultType, idempotencyKey, started, cancellationToken);
        if (failure is WampException e) throw WampContractRegistry.Map(e);
        ExceptionDispatchInfo.Throw(failure); // as an await of the attempt would have
        throw new UnreachableException();
    }

    /// <summary>The first attempt: a session that is reconnecting gets the chance to finish first (bounded), instead of failing it.</summary>
    private static ValueTask FirstAttempt(WampSession session, WampMethodDescriptor method, WampPayload arguments, string? idempotencyKey,
        CancellationToken cancellationToken, out IAttemptOutcome attempt)
    {
        var options = OptionsFor(method, idempotencyKey);
        if (session.IsConnected) return session.StartAttempt(method.Uri, arguments, options, method, cancellationToken, out attempt);
        var task = AttemptAsync(session, method, arguments, options, 1, cancellationToken);
        attempt = new TaskAttemptOutcome(task);
        return TaskAttemptOutcome.Settled(task);
    }

    /// <summary>One attempt as a task: after waiting (bounded) for a session that is not connected yet or reconnecting.</summary>
    private static async Task<WampResult> AttemptAsync(WampSession session, WampMethodDescriptor method, WampPayload arguments, WampCallOptions? options,
        int attempt, CancellationToken cancellationToken)
    {
        await WaitForConnectionAsync(session, method, options, cancellationToken).ConfigureAwait(false);
        return await session.CallAsync(method.Uri, arguments, options, method, attempt, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The attempts after a first one failed transiently with <paramref name="failure"/>: each limited by its timeout and
    /// the ambient deadline, made only when the call is safe to repeat (without side effects, idempotent, or keyed; the
    /// key stays the same), with backoff and within the session's retry budget. Never starts a backoff that cannot end
    /// before the deadline.
    /// </summary>
    private static async Task<T?> RetryAsync<T>(Exception failure, WampRetryPolicy policy, WampSession session, WampMethodDescriptor method,
        WampPayload arguments, JsonTypeInfo<T>? resultType, string? idempotencyKey, long started, CancellationToken cancellationToken)
    {
        var options = OptionsFor(method, idempotencyKey);
        // Never repeat what may not be repeated: a call is safe to repeat when a repeat changes nothing (no side effects,
        // so nothing to key or store) or when the callee deduplicates it by its key.
        bool safeToRepeat = idempotencyKey is not null || method.IdempotencyLevel == WampIdempotencyLevel.NoSideEffects;
        int maxAttempts = safeToRepeat ? policy.MaxAttempts : 1;
        var time = session.Options.TimeProvider;
        for (int attempt = 2; ; attempt++)
        {
            int failed = attempt - 1;
            bool budgetAllows = session.RetryThrottle.OnFailureMayRetry();
            if (failed >= maxAttempts || !budgetAllows || cancellationToken.IsCancellationRequested) throw Final(failure, method, time.GetElapsedTime(started), failed);
            var backoff = policy.BackoffBefore(failed);
            if (WampDeadline.Remaining is { } remaining && remaining <= backoff) throw Final(failure, method, time.GetElapsedTime(started), failed);
            if (backoff > TimeSpan.Zero) await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
            if (WampTelemetry.Retries.Enabled) WampTelemetry.Retries.Add(1, WampTelemetry.Tags(method, method.Uri));
            WampResult result;
            try
            {
                result = await AttemptAsync(session, method, arguments, options, attempt, cancellationToken).ConfigureAwait(false);
                session.RetryThrottle.OnSuccess();
            }
            catch (Exception e) when (IsTransient(e, policy, time.GetElapsedTime(started)))
            {
                failure = e;
                continue;
            }
            catch (WampException e)
            {
                throw WampContractRegistry.Map(e);
            }
            return resultType is null ? default : ReadResult(result.Payload, resultType, method);
        }
    }

    private static WampRetryPolicy PolicyFor(WampSession session, WampMethodDescriptor method) =>
        WampRetry.Current ?? method.RetryPolicy ?? session.Options.RetryPolicy;

    /// <summary>Transient: the connection was lost (or closed by a router the session reconnects to), an attempt timed out, the router canceled, or the callee is restarting.</summary>
    private static bool IsTransient(Exception e, WampRetryPolicy policy, TimeSpan elapsed) => e switch
    {
        WampConnectionException c => c.Reason == WampConnectionException.TransportLost || c.Reconnecting,
        WampTimeoutException t => t.Attempts > 0 && DeadlineLeft(),
        WampException { Uri: WampContracts.Protocol.WampUris.Canceled } => true,
        WampException { Uri: WampContracts.Protocol.WampUris.NoSuchProcedure } => elapsed < policy.CalleeRestartWindow,
        _ => false,
    };

    /// <summary>True outside a deadline, or while some of it remains: an attempt's timeout is then worth retrying.</summary>
    private static bool DeadlineLeft() => WampDeadline.Remaining is not { } left || left > TimeSpan.Zero;

    /// <summary>The error the caller sees once no retry follows; a timeout reports every attempt.</summary>
    private static Exception Final(Exception e, WampMethodDescriptor method, TimeSpan elapsed, int attempts) => e switch
    {
        WampTimeoutException t => new WampTimeoutException(method.Uri, elapsed, t.Limit, attempts, t),
        WampException w => WampContractRegistry.Map(w),
        _ => e,
    };

    /// <summary>Before an attempt, waits for a session that has not joined yet or is reconnecting, bounded by the attempt's limit.</summary>
    private static async Task WaitForConnectionAsync(WampSession session, WampMethodDescriptor method, WampCallOptions? options, CancellationToken cancellationToken)
    {
        if (session.IsConnected) return;
        var bound = session.AttemptLimit(options) ?? TimeSpan.FromSeconds(30);
        var time = session.Options.TimeProvider;
        long start = time.GetTimestamp();
        // The connection may drop again while it is restored: wait until it is really up, within one bound.
        while (!session.IsConnected)
        {
            var left = bound - time.GetElapsedTime(start);
            if (left <= TimeSpan.Zero) throw NotBackInTime(method, bound);
            // The wait itself is canceled at the bound (never abandoned), so nothing is left running behind it.
            using var limit = new CancellationTokenSource(left, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            try
            {
                await session.WaitUntilConnectedAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw NotBackInTime(method, bound);
            }
        }
    }

    private static WampConnectionException NotBackInTime(WampMethodDescriptor method, TimeSpan bound) =>
        new(WampConnectionException.TransportLost, $"No connection to the router for '{method.Uri}' within {bound.TotalMilliseconds:0} ms.");

    /// <summary>
    /// Calls a procedure with progressive results: each progressive result's first argument is an item; the final
    /// result ends the stream.
    /// </summary>
    public static async IAsyncEnumerable<T> StreamAsync<T>(WampSession session, WampMethodDescriptor method, WampPayload arguments, JsonTypeInfo<T> itemType,
        string? idempotencyKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = OptionsFor(method, idempotencyKey);
        // As a call: a session that has not joined yet, or is reconnecting, gets the chance to (within the limit).
        await WaitForConnectionAsync(session, method, options, cancellationToken).ConfigureAwait(false);
        await using var results = session.StreamAsync(method.Uri, arguments, options, method, cancellationToken).GetAsyncEnumerator(cancellationToken);
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
    public static async Task PublishAsync(WampSession session, WampMethodDescriptor method, WampPayload arguments, CancellationToken cancellationToken)
    {
        // A publisher handed out before its session joined, or while it reconnects, waits for it (bounded).
        if (!session.IsConnected) await session.WaitForJoinAsync(cancellationToken).ConfigureAwait(false);
        await session.PublishAsync(method.Uri, arguments, null, method, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Registers every procedure of a callee stub; disposing the result unregisters them all.</summary>
    public static Task<IAsyncDisposable> RegisterAsync(WampSession session, IReadOnlyList<WampProcedureBinding> procedures, CancellationToken cancellationToken) =>
        WampContractHandle.AttachAllAsync(procedures, async (p, ct) =>
        {
            // Only methods with effects are deduplicated: one without side effects fingerprints and stores nothing,
            // even when a caller sends a key.
            var handler = WampContractTargets.Wrap(p.Handler);
            handler = p.Method.Idempotent || p.Method.IdempotencyKeyParameter >= 0 ? Deduplicated(session, p.Method, handler) : handler;
            return (IAsyncDisposable)await session.RegisterAsync(p.Method.Uri, handler, session.Options.ContractRegisterOptions, p.Method, ct).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>Subscribes every topic of a subscriber dispatcher; disposing the result unsubscribes them all.</summary>
    public static Task<IAsyncDisposable> SubscribeAsync(WampSession session, IReadOnlyList<WampEventBinding> events, CancellationToken cancellationToken) =>
        WampContractHandle.AttachAllAsync(events, async (e, ct) =>
            (IAsyncDisposable)await session.SubscribeAsync(e.Method.Uri, WampContractTargets.Wrap(e.Handler), null, e.Method, ct).ConfigureAwait(false), cancellationToken);

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
                        if (WampTelemetry.IdempotentReplays.Enabled) WampTelemetry.IdempotentReplays.Add(1, WampTelemetry.Tags(method, method.Uri));
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
