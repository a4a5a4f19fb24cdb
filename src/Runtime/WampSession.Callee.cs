using System.Collections.Concurrent;
using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>Handles one invocation of a registered procedure and returns its final result.</summary>
/// <param name="invocation">The arguments and details of the call.</param>
/// <param name="cancellationToken">Fires when the caller cancels (INTERRUPT), the call's timeout passes, or the session ends.</param>
public delegate ValueTask<WampPayload> WampProcedureHandler(WampInvocation invocation, CancellationToken cancellationToken);

/// <summary>One INVOCATION of a registered procedure, as the handler sees it.</summary>
public sealed class WampInvocation
{
    private readonly WampSession _session;
    private readonly CancellationTokenSource _cts;
    private volatile string? _interruptMode;

    internal WampInvocation(WampSession session, long requestId, string procedure, in WampMessage message, CancellationTokenSource cts)
    {
        _session = session;
        RequestId = requestId;
        Payload = message.Payload;
        Details = message.Dict;
        Procedure = message.Dict.GetString("procedure"u8) ?? procedure;
        ReceiveProgress = message.Dict.GetBool("receive_progress"u8);
        Caller = message.Dict.GetInt64("caller"u8);
        CallerAuthId = message.Dict.GetString("caller_authid"u8);
        var carried = CallMetadata.FromPayload(message.Payload);
        long? timeoutMs = message.Dict.GetInt64("timeout"u8) is > 0 and var ms ? ms : carried.TimeoutMs;
        if (timeoutMs is > 0) Timeout = TimeSpan.FromMilliseconds(timeoutMs.Value);
        IdempotencyKey = message.Dict.GetString(CallMetadata.IdempotencyKeyOption) ?? carried.IdempotencyKey;
        Arrived = session.Options.TimeProvider.GetTimestamp();
        _cts = cts;
    }

    /// <summary>The idempotency key the caller sent (<c>x_idempotency_key</c>), if any.</summary>
    public string? IdempotencyKey { get; }

    internal long Arrived { get; }

    /// <summary>The session that received the invocation.</summary>
    public WampSession Session => _session;

    /// <summary>The INVOCATION request id (router→callee direction).</summary>
    public long RequestId { get; }

    /// <summary>The URI that was called: the registered one, or the concrete one for pattern registrations.</summary>
    public string Procedure { get; }

    public WampPayload Payload { get; }

    /// <summary>The INVOCATION details as sent by the dealer, including any forwarded <c>x_</c> keys.</summary>
    public WampDict Details { get; }

    /// <summary>The caller asked for progressive results; <see cref="SendProgressAsync"/> delivers them.</summary>
    public bool ReceiveProgress { get; }

    /// <summary>The caller's session id, when the dealer disclosed it.</summary>
    public long? Caller { get; }

    public string? CallerAuthId { get; }

    /// <summary>The time limit the dealer forwarded (<c>Details.timeout</c>), if any; the handler's token fires when it passes.</summary>
    public TimeSpan? Timeout { get; }

    internal CancellationTokenSource CancellationSource => _cts;

    internal string? InterruptMode => _interruptMode;

    /// <summary>
    /// Sends a progressive result to the caller. Returns false (sending nothing) when the caller did not ask
    /// for progressive results or the invocation is over.
    /// </summary>
    public ValueTask<bool> SendProgressAsync(WampPayload progress, CancellationToken cancellationToken = default)
    {
        if (!ReceiveProgress || _cts.IsCancellationRequested) return ValueTask.FromResult(false);
        var w = WampFrameWriter.Start(WampMessageType.Yield).Id(RequestId);
        w.Json.WriteStartObject();
        w.Json.WriteBoolean("progress"u8, true);
        w.Json.WriteEndObject();
        return ValueTask.FromResult(_session.SendFrame(w.Payload(progress).ToFrame()));
    }

    internal void Interrupt(string mode)
    {
        _interruptMode = mode;
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
    }
}

public sealed partial class WampSession
{
    // Registrations by the router's id on the current connection, and every live registration (to restore them
    // on a new connection after a reconnection).
    private readonly ConcurrentDictionary<long, RegisteredProcedure> _registrations = new();
    private readonly ConcurrentDictionary<RegisteredProcedure, byte> _procedures = new();
    private readonly ConcurrentDictionary<long, WampInvocation> _invocations = new();

    internal sealed class RegisteredProcedure(string procedure, WampProcedureHandler handler, WampRegisterOptions options)
    {
        public string Procedure { get; } = procedure;
        public WampProcedureHandler Handler { get; } = handler;
        public WampRegisterOptions Options { get; } = options;

        /// <summary>The router's id for it on the current connection.</summary>
        public long RegistrationId { get; set; }
    }

    internal bool SendFrame(WampFrame frame) => TryEnqueue(frame);

    /// <summary>
    /// Registers <paramref name="handler"/> for <paramref name="procedure"/>. Dispose the returned registration to unregister.
    /// Handlers run on the thread pool, never on the session's reader, so a slow handler delays no other message.
    /// </summary>
    /// <exception cref="WampException">The dealer refused, e.g. <c>wamp.error.procedure_already_exists</c>.</exception>
    public async Task<WampRegistration> RegisterAsync(string procedure, WampProcedureHandler handler, WampRegisterOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= WampRegisterOptions.Default;
        bool pattern = options.Match != WampMatch.Exact;
        if (!WampUris.IsValidLoose(procedure, allowEmptyComponents: options.Match == WampMatch.Wildcard, allowEmptyLast: pattern))
            throw new ArgumentException($"'{procedure}' is not a valid procedure URI.", nameof(procedure));
        var registered = new RegisteredProcedure(procedure, handler, options);
        await RegisterOnConnectionAsync(registered, cancellationToken).ConfigureAwait(false);
        _procedures[registered] = 0;
        return new WampRegistration(this, registered);
    }

    private async Task RegisterOnConnectionAsync(RegisteredProcedure registered, CancellationToken cancellationToken)
    {
        long id = NextRequestId();
        var w = WampFrameWriter.Start(WampMessageType.Register).Id(id);
        var options = registered.Options;
        w.Json.WriteStartObject();
        if (options.Match != WampMatch.Exact) w.Json.WriteString("match"u8, options.Match.ToWire());
        if (options.Invoke != WampInvokePolicy.Single) w.Json.WriteString("invoke"u8, options.Invoke.ToWire());
        if (options.DiscloseCaller) w.Json.WriteBoolean("disclose_caller"u8, true);
        w.Json.WriteEndObject();
        var frame = w.String(registered.Procedure).ToFrame();
        // The registration is stored by the reader as REGISTERED arrives, before any INVOCATION for it can.
        await SendRequestAsync(id, frame, WampMessageType.Registered, registered, cancellationToken).ConfigureAwait(false);
    }

    private IEnumerable<RegisteredProcedure> ActiveProcedures()
    {
        _registrations.Clear(); // ids of the old connection mean nothing on the new one
        return _procedures.Keys.ToArray();
    }

    internal async Task UnregisterAsync(RegisteredProcedure registered, CancellationToken cancellationToken)
    {
        _procedures.TryRemove(registered, out _);
        if (!_registrations.TryRemove(registered.RegistrationId, out _) || !IsConnected) return;
        long id = NextRequestId();
        var frame = WampFrameWriter.Start(WampMessageType.Unregister).Id(id).Id(registered.RegistrationId).ToFrame();
        await SendRequestAsync(id, frame, WampMessageType.Unregistered, null, cancellationToken).ConfigureAwait(false);
    }

    private void OnInvocation(in WampMessage m)
    {
        long requestId = m.Id1;
        if (!_registrations.TryGetValue(m.Id2, out var registration))
        {
            SendError(WampMessageType.Invocation, requestId, WampUris.NoSuchRegistration, WampPayload.Empty);
            return;
        }
        var cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _options.TimeProvider);
        var invocation = new WampInvocation(this, requestId, registration.Procedure, m, cts);
        if (invocation.Timeout is { } budget) cts.CancelAfter(budget);
        if (!_invocations.TryAdd(requestId, invocation))
        {
            cts.Dispose();
            return; // a duplicate INVOCATION id: the first one keeps running
        }
        // Run the handler off the reader loop: user code must never block message processing.
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Session.RunInvocationAsync(s.Invocation, s.Handler),
            (Session: this, Invocation: invocation, Handler: registration.Handler), preferLocal: false);
    }

    private async Task RunInvocationAsync(WampInvocation invocation, WampProcedureHandler handler)
    {
        var cts = invocation.CancellationSource;
        var time = _options.TimeProvider;
        try
        {
            // The caller's budget becomes the handler's deadline: its token fires when the budget is spent, and
            // every call the handler makes shares what remains (deadline propagation without user code).
            using var deadline = invocation.Timeout is { } budget ? WampDeadline.Within(budget - time.GetElapsedTime(invocation.Arrived), time) : null;
            // Work whose time ran out while it waited to start is not started at all.
            cts.Token.ThrowIfCancellationRequested();
            WampPayload result = await handler(invocation, cts.Token).ConfigureAwait(false);
            var frame = WampFrameWriter.Start(WampMessageType.Yield).Id(invocation.RequestId).EmptyDict().Payload(result).ToFrame();
            TryEnqueue(frame);
        }
        catch (WampException e)
        {
            SendError(WampMessageType.Invocation, invocation.RequestId, e.Uri, e.Payload);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            // An INTERRUPT or the forwarded timeout ended the work.
            string uri = invocation.InterruptMode is null && invocation.Timeout is not null ? WampUris.Timeout : WampUris.Canceled;
            SendError(WampMessageType.Invocation, invocation.RequestId, uri, WampPayload.Empty);
        }
        catch (Exception e)
        {
            // Unexpected failures say nothing of the callee's internals unless the session opted in.
            var payload = _options.IncludeExceptionDetails
                ? ErrorDetails(e)
                : WampPayload.Empty;
            SendError(WampMessageType.Invocation, invocation.RequestId, WampUris.RuntimeError, payload);
            ReportHandlerError(e);
        }
        finally
        {
            _invocations.TryRemove(invocation.RequestId, out _);
            cts.Dispose();
        }
    }

    private static WampPayload ErrorDetails(Exception e)
    {
        var text = WampRuntimeJsonContext.Default.String;
        return new WampPayloadBuilder()
            .AddArgument(e.Message, text)
            .AddKeywordArgument("exception", e.GetType().FullName, text)
            .AddKeywordArgument("stack_trace", e.StackTrace, text)
            .Build();
    }

    private void OnInterrupt(in WampMessage m)
    {
        if (_invocations.TryGetValue(m.Id1, out var invocation))
            invocation.Interrupt(m.Dict.GetString("mode"u8) ?? "kill");
    }

    private void CancelAllInvocations()
    {
        foreach (var invocation in _invocations.Values) invocation.Interrupt("killnowait");
    }

    private void SendError(WampMessageType requestType, long requestId, string uri, WampPayload payload)
    {
        var frame = WampFrameWriter.Start(WampMessageType.Error).Id((int)requestType).Id(requestId).EmptyDict().String(uri).Payload(payload).ToFrame();
        TryEnqueue(frame);
    }

    private void ReportHandlerError(Exception e)
    {
        try { _options.OnHandlerError?.Invoke(e); } catch { /* a faulty error callback must not break the session */ }
    }
}

/// <summary>A procedure registration; dispose it to unregister.</summary>
public sealed class WampRegistration : IAsyncDisposable
{
    private readonly WampSession _session;
    private int _disposed;

    private readonly WampSession.RegisteredProcedure _registered;

    internal WampRegistration(WampSession session, WampSession.RegisteredProcedure registered)
    {
        _session = session;
        _registered = registered;
    }

    /// <summary>The registration id the dealer assigned (a new one after a reconnection).</summary>
    public long Id => _registered.RegistrationId;

    public string Procedure => _registered.Procedure;

    /// <summary>Unregisters (bounded by the session's operation timeout); a no-op once the session has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try
        {
            await _session.UnregisterAsync(_registered, CancellationToken.None).ConfigureAwait(false);
        }
        catch (WampConnectionException)
        {
            // The session is gone, and the router dropped the registration with it.
        }
    }
}
