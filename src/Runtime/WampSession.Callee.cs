using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>Handles one invocation of a registered procedure and returns its final result.</summary>
/// <param name="invocation">The arguments and details of the call.</param>
/// <param name="cancellationToken">
/// Fires when the caller cancels (INTERRUPT), the call's timeout passes, or the session ends. Valid while the handler
/// runs: its source serves a later invocation once the handler has finished.
/// </param>
public delegate ValueTask<WampPayload> WampProcedureHandler(WampInvocation invocation, CancellationToken cancellationToken);

/// <summary>One INVOCATION of a registered procedure, as the handler sees it.</summary>
public sealed class WampInvocation
{
    private const int ReceivesProgress = 1, Interrupted = 2, ByRouter = 4, Ended = 8;

    // The handler's token: from a pool, and back to it once the invocation is over (when nothing can fire it any more).
    private readonly InvocationCancellation _cancellation;
    // The forwarded time limit in milliseconds (0 for none; int.MaxValue, some 24 days, stands for any longer one).
    private readonly int _timeoutMs;
    // The flags above, changed atomically: whichever of an interrupt and the end comes first, the other sees it.
    private int _state;

    private Dictionary<string, object?>? _items;

    internal WampInvocation(WampSession.Connection connection, long requestId, string procedure, in WampMessage message,
        WampMethodDescriptor? method = null)
    {
        Method = method;
        Connection = connection;
        RequestId = requestId;
        Payload = message.Payload;
        Details = message.Dict;
        var details = ReadDetails(message.Dict);
        Procedure = details.Procedure ?? procedure;
        if (details.ReceiveProgress) _state = ReceivesProgress;
        // Whatever the peer sent (10^15 ms, a negative number, a float), the limit is a valid span or none.
        long? timeoutMs = details.TimeoutMs is > 0 and var ms ? ms : CallMetadata.FromPayload(message.Payload).TimeoutMs;
        _timeoutMs = timeoutMs is > 0 and var limit ? (int)Math.Min(limit, int.MaxValue) : 0;
        Arrived = Session.Options.TimeProvider.GetTimestamp();
        _cancellation = InvocationCancellation.Rent(this);
    }

    private record struct InvocationDetails(string? Procedure, bool ReceiveProgress, long? TimeoutMs);

    /// <summary>
    /// The keys an invocation uses, in one pass over its details (what <see cref="WampDict"/>'s look-ups would find: the
    /// first occurrence of a key decides, a value of the wrong type reads as absent).
    /// </summary>
    private static InvocationDetails ReadDetails(WampDict dict)
    {
        var d = new InvocationDetails();
        if (dict.IsEmpty) return d;
        var reader = new Utf8JsonReader(dict.Json.Span, WampMessageParser.ReaderOptions);
        reader.Read(); // {
        int seen = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            int key = reader.ValueTextEquals("procedure"u8) ? 1
                : reader.ValueTextEquals("receive_progress"u8) ? 2
                : reader.ValueTextEquals("timeout"u8) ? 4
                : 0;
            reader.Read();
            if (key != 0 && (seen & key) == 0)
            {
                seen |= key;
                switch (key)
                {
                    case 1: d.Procedure = reader.TokenType == JsonTokenType.String ? reader.GetString() : null; break;
                    case 2: d.ReceiveProgress = reader.TokenType == JsonTokenType.True; break;
                    case 4: d.TimeoutMs = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long t) ? t : null; break;
                }
            }
            reader.Skip();
        }
        return d;
    }

    /// <summary>The connection that delivered the invocation: its answer goes back on it, or nowhere once it is lost.</summary>
    internal WampSession.Connection Connection { get; }

    /// <summary>The idempotency key the caller sent (<c>x_idempotency_key</c>), if any.</summary>
    public string? IdempotencyKey => Details.GetString(CallMetadata.IdempotencyKeyOption) ?? Carried.IdempotencyKey;

    internal long Arrived { get; }

    /// <summary>The session that received the invocation.</summary>
    public WampSession Session => Connection.Session;

    /// <summary>The INVOCATION request id (router→callee direction).</summary>
    public long RequestId { get; }

    /// <summary>The URI that was called: the registered one, or the concrete one for pattern registrations.</summary>
    public string Procedure { get; }

    public WampPayload Payload { get; }

    /// <summary>The INVOCATION details as sent by the dealer, including any forwarded <c>x_</c> keys.</summary>
    public WampDict Details { get; }

    /// <summary>The caller asked for progressive results; <see cref="SendProgressAsync"/> delivers them.</summary>
    public bool ReceiveProgress => (_state & ReceivesProgress) != 0;

    /// <summary>The caller's session id, when the dealer disclosed it.</summary>
    public long? Caller => Details.GetInt64("caller"u8);

    /// <summary>The caller's <c>authid</c>, when the dealer disclosed the caller.</summary>
    public string? CallerAuthId => Details.GetString("caller_authid"u8);

    /// <summary>The caller's <c>authrole</c>, when the dealer disclosed the caller.</summary>
    public string? CallerAuthRole => Details.GetString("caller_authrole"u8);

    /// <summary>The contract method, when a generated callee stub registered the procedure; null otherwise.</summary>
    public WampMethodDescriptor? Method { get; }

    /// <summary>Which attempt of the caller's call this is: 1 unless the caller retried (<c>x_attempt</c>).</summary>
    public int Attempt => (int)Math.Clamp(Details.GetInt64(CallMetadata.AttemptOption) ?? Carried.Attempt ?? 1, 1, int.MaxValue);

    /// <summary>What remains of the caller's time limit (<see cref="Timeout"/>) now; null when the caller set none.</summary>
    public TimeSpan? RemainingTime => Timeout is { } budget
        ? TimeSpan.FromTicks(Math.Max(0, (budget - Session.Options.TimeProvider.GetElapsedTime(Arrived)).Ticks))
        : null;

    /// <summary>
    /// A string the caller attached to the call (<see cref="WampCallContext"/>, <see cref="WampOutgoingCall.Metadata"/>),
    /// by its <c>x_</c> key: from the INVOCATION details, or from the payload carrier when the router drops custom options.
    /// </summary>
    public string? GetMetadata(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        byte[] name = System.Text.Encoding.UTF8.GetBytes(key);
        return Details.GetString(name) ?? Carried.Metadata.GetString(name);
    }

    /// <summary>The payload carrier, read again when asked for (rarely): an invocation holds no copy of it.</summary>
    private CallMetadata.Carried Carried => CallMetadata.FromPayload(Payload);

    /// <summary>Data that invocation interceptors leave for the handler (and each other), for this invocation only.</summary>
    public IDictionary<string, object?> Items => _items ??= new Dictionary<string, object?>(StringComparer.Ordinal);

    /// <summary>The caller's W3C trace context, from the details or the payload carrier.</summary>
    internal (string? Parent, string? State) TraceContext =>
        Details.GetString(CallMetadata.TraceParentOption) is { } parent
            ? (parent, Details.GetString(CallMetadata.TraceStateOption))
            : (Carried.TraceParent, Carried.TraceState);

    /// <summary>The time limit the dealer forwarded (<c>Details.timeout</c>), if any; the handler's token fires when it passes.</summary>
    public TimeSpan? Timeout => _timeoutMs switch
    {
        0 => null,
        int.MaxValue => TimeSpan.MaxValue,
        var ms => TimeSpan.FromMilliseconds(ms),
    };

    /// <summary>When the forwarded time limit passes (a timestamp of the session's time provider), if there is one.</summary>
    internal long? Due => Timeout is { } limit ? TimeLimit.Due(Session.Options.TimeProvider, Arrived, limit) : null;

    internal InvocationCancellation Cancellation => _cancellation;

    /// <summary>The router interrupted the invocation (INTERRUPT, or the connection was lost), rather than its time limit.</summary>
    internal bool InterruptedByRouter => (Volatile.Read(ref _state) & ByRouter) != 0;

    /// <summary>
    /// Sends a progressive result to the caller. Returns false (sending nothing) when the caller did not ask
    /// for progressive results or the invocation is over.
    /// </summary>
    public ValueTask<bool> SendProgressAsync(WampPayload progress, CancellationToken cancellationToken = default)
    {
        if ((Volatile.Read(ref _state) & (ReceivesProgress | Ended)) != ReceivesProgress || _cancellation.IsCancellationRequested)
            return ValueTask.FromResult(false);
        var w = WampFrameWriter.Start(WampMessageType.Yield).Id(RequestId);
        w.Json.WriteStartObject();
        w.Json.WriteBoolean("progress"u8, true);
        w.Json.WriteEndObject();
        return ValueTask.FromResult(Connection.Sender.TryEnqueue(w.Payload(progress).ToFrame()));
    }

    /// <param name="byRouter">False when the forwarded time limit passed; true for an INTERRUPT or a lost connection.</param>
    internal void Interrupt(bool byRouter)
    {
        // An interrupt after the end fires nothing: the token may already serve another invocation (see Finish).
        if ((Interlocked.Or(ref _state, byRouter ? Interrupted | ByRouter : Interrupted) & Ended) != 0) return;
        try
        {
            _cancellation.Cancel();
        }
        catch (Exception e)
        {
            // A callback the handler registered on its token threw: that is the handler's failure, never the
            // caller's (a timer, the reader loop or a disconnection) — log it and go on.
            Session.Log.HandlerFailed(e, Procedure, RequestId);
        }
    }

    /// <summary>
    /// The invocation is over: its token goes back to the pool when nothing can fire it any more (no interrupt came,
    /// and its timer, if any, was stopped before it fired); otherwise it is left to the garbage collector.
    /// </summary>
    /// <param name="timerStopped">False when the invocation's timer had already fired (or was firing).</param>
    internal void Finish(bool timerStopped)
    {
        if ((Interlocked.Or(ref _state, Ended) & Interrupted) == 0 && timerStopped) _cancellation.Return();
    }
}

/// <summary>
/// A running invocation's token source and its place among the session's timers. It is reused: the token handed to a
/// handler is valid while the handler runs (as ASP.NET Core's <c>RequestAborted</c>), and may belong to a later
/// invocation once the handler has finished.
/// </summary>
internal sealed class InvocationCancellation : CancellationTokenSource, ITimed
{
    private static readonly ReusePool<InvocationCancellation> s_pool = new(256);

    private WampInvocation? _invocation;

    private InvocationCancellation()
    {
    }

    public static InvocationCancellation Rent(WampInvocation invocation)
    {
        var cancellation = s_pool.TryTake() ?? new InvocationCancellation();
        cancellation._invocation = invocation;
        return cancellation;
    }

    /// <summary>Back to the pool when the token was never fired (a source whose token fired cannot be reset).</summary>
    public void Return()
    {
        _invocation = null;
        if (TryReset()) s_pool.Return(this);
        else Dispose();
    }

    long ITimed.TimerDue { get; set; }

    object? ITimed.TimerList { get; set; }

    ITimed? ITimed.TimerPrevious { get; set; }

    ITimed? ITimed.TimerNext { get; set; }

    /// <summary>The forwarded time limit passed: the handler's token fires.</summary>
    void ITimed.OnExpired() => _invocation?.Interrupt(byRouter: false);
}

public sealed partial class WampSession
{
    // Registrations by the router's id on the current connection, and every live registration (to restore them
    // on a new connection after a reconnection). Running invocations belong to their connection.
    private readonly ConcurrentDictionary<long, RegisteredProcedure> _registrations = new();
    private readonly ConcurrentDictionary<RegisteredProcedure, byte> _procedures = new();

    internal sealed class RegisteredProcedure(string procedure, WampProcedureHandler handler, WampRegisterOptions options, WampMethodDescriptor? method = null)
    {
        public WampMethodDescriptor? Method { get; } = method;

        public string Procedure { get; } = procedure;
        public WampProcedureHandler Handler { get; } = handler;
        public WampRegisterOptions Options { get; } = options;

        /// <summary>The router's id for it on the current connection.</summary>
        public long RegistrationId { get; set; }
    }

    /// <summary>
    /// Registers <paramref name="handler"/> for <paramref name="procedure"/>. Dispose the returned registration to unregister.
    /// Handlers run on the thread pool, never on the session's reader, so a slow handler delays no other message
    /// (unless <see cref="WampRegisterOptions.RunsInline"/> says it never blocks).
    /// </summary>
    /// <exception cref="WampException">The dealer refused, e.g. <c>wamp.error.procedure_already_exists</c>.</exception>
    public Task<WampRegistration> RegisterAsync(string procedure, WampProcedureHandler handler, WampRegisterOptions? options = null, CancellationToken cancellationToken = default) =>
        RegisterAsync(procedure, handler, options, method: null, cancellationToken);

    internal async Task<WampRegistration> RegisterAsync(string procedure, WampProcedureHandler handler, WampRegisterOptions? options, WampMethodDescriptor? method,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= WampRegisterOptions.Default;
        bool pattern = options.Match != WampMatch.Exact;
        if (!WampUris.IsValidLoose(procedure, allowEmptyComponents: options.Match == WampMatch.Wildcard, allowEmptyLast: pattern))
            throw new ArgumentException($"'{procedure}' is not a valid procedure URI.", nameof(procedure));
        var registered = new RegisteredProcedure(procedure, handler, options, method);
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

    private void OnInvocation(Connection connection, in WampMessage m)
    {
        long requestId = m.Id1;
        if (!_registrations.TryGetValue(m.Id2, out var registration))
        {
            SendError(connection, WampMessageType.Invocation, requestId, WampUris.NoSuchRegistration,
                WampPayload.FromMessage($"this session has no registration {m.Id2}"));
            return;
        }
        var invocation = new WampInvocation(connection, requestId, registration.Procedure, m, registration.Method);
        if (!connection.Invocations.TryAdd(requestId, invocation))
        {
            invocation.Finish(timerStopped: true);
            // The first invocation with this id keeps running; the router learns its id was reused.
            SendError(connection, WampMessageType.Invocation, requestId, WampUris.InvalidArgument,
                WampPayload.FromMessage($"INVOCATION reuses request id {requestId} of an invocation still running"));
            return;
        }
        if (invocation.Timeout is { } budget) _timers.Schedule(invocation.Cancellation, budget);
        if (registration.Options.RunsInline)
        {
            // The handler promised not to block: it runs here until it completes or first awaits.
            _ = RunInvocationAsync(invocation, registration.Handler);
            return;
        }
        // Run the handler off the reader loop: user code must never block message processing.
        ThreadPool.UnsafeQueueUserWorkItem(static s => _ = s.Session.RunInvocationAsync(s.Invocation, s.Handler),
            (Session: this, Invocation: invocation, Handler: registration.Handler), preferLocal: false);
    }

    private async Task RunInvocationAsync(WampInvocation invocation, WampProcedureHandler handler)
    {
        var connection = invocation.Connection;
        var token = invocation.Cancellation.Token;
        // A server span and the call metrics when someone listens; the span is current for the handler, the calls it
        // makes and what is logged about it, and it ends before the answer leaves (so it never outlives the caller's).
        bool observed = WampTelemetry.InvocationsObserved;
        Activity? activity = null;
        try
        {
            if (observed && WampTelemetry.Source.HasListeners()) activity = StartInvocationActivity(invocation);
            // Work whose time ran out while it waited to start is not started at all.
            token.ThrowIfCancellationRequested();
            // The invocation becomes ambient (WampInvocationContext.Current) for the handler and all it runs: the caller's
            // budget is then the deadline every call it makes shares (deadline propagation without user code), and a
            // generated stub's target (or any handler behind interceptors) reads its invocation there. Setting an
            // AsyncLocal allocates, so a plain handler of a call without a time limit, which is given the invocation as
            // its parameter anyway, goes without. It needs no undoing: an async method's changes stay inside it.
            if (invocation.Timeout is not null || invocation.Method is not null || _options.InvocationInterceptors.Count > 0)
                WampInvocationContext.Set(invocation);
            WampPayload result = _options.InvocationInterceptors.Count == 0
                ? await handler(invocation, token).ConfigureAwait(false)
                : await InterceptInvocation(invocation, handler, 0, token).ConfigureAwait(false);
            EndInvocation(ref observed, invocation, activity, null, null);
            connection.Sender.TryEnqueue(WampFrameWriter.Start(WampMessageType.Yield).Id(invocation.RequestId).EmptyDict().Payload(result).ToFrame());
        }
        catch (WampException e)
        {
            EndInvocation(ref observed, invocation, activity, e.Uri, e.Message);
            SendError(connection, WampMessageType.Invocation, invocation.RequestId, e.Uri, e.Payload);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // An INTERRUPT or the forwarded timeout ended the work.
            string uri = !invocation.InterruptedByRouter && invocation.Timeout is not null ? WampUris.Timeout : WampUris.Canceled;
            EndInvocation(ref observed, invocation, activity, uri, null);
            SendError(connection, WampMessageType.Invocation, invocation.RequestId, uri, WampPayload.Empty);
        }
        catch (Exception e)
        {
            // Logged inside the span, so the record carries its trace.
            _log.HandlerFailed(e, invocation.Procedure, invocation.RequestId);
            EndInvocation(ref observed, invocation, activity, e.GetType().FullName ?? e.GetType().Name, e.Message);
            // Unexpected failures say nothing of the callee's internals unless the session opted in.
            var payload = _options.IncludeExceptionDetails
                ? ErrorDetails(e)
                : WampPayload.Empty;
            SendError(connection, WampMessageType.Invocation, invocation.RequestId, WampUris.RuntimeError, payload);
            ReportHandlerError(e);
        }
        finally
        {
            EndInvocation(ref observed, invocation, activity, null, null); // a no-op unless something above threw first
            bool timerStopped = invocation.Timeout is null || _timers.Cancel(invocation.Cancellation);
            connection.Invocations.Remove(invocation);
            invocation.Finish(timerStopped);
        }
    }

    /// <summary>A server span, a child of the caller's span (trace context from the details or the payload carrier).</summary>
    private static Activity? StartInvocationActivity(WampInvocation invocation)
    {
        var method = invocation.Method;
        var (parent, state) = invocation.TraceContext;
        ActivityContext.TryParse(parent, state, isRemote: true, out var parentContext);
        var activity = WampTelemetry.Start(WampTelemetry.SpanName(method, invocation.Procedure), ActivityKind.Server, parentContext, method,
            WampTelemetry.Procedure, invocation.Procedure);
        if (activity is { IsAllDataRequested: true } && invocation.Attempt > 1) activity.SetTag(WampTelemetry.Attempt, invocation.Attempt);
        return activity;
    }

    /// <summary>Ends an observed invocation once: its span (failed with <paramref name="errorType"/>, if any) and its duration.</summary>
    private void EndInvocation(ref bool observed, WampInvocation invocation, Activity? activity, string? errorType, string? message)
    {
        if (!observed) return;
        observed = false;
        var tags = WampTelemetry.Tags(invocation.Method, invocation.Procedure);
        if (errorType is not null)
        {
            tags.Add(WampTelemetry.ErrorType, errorType);
            activity?.SetStatus(ActivityStatusCode.Error, message);
            activity?.SetTag(WampTelemetry.ErrorType, errorType);
        }
        WampTelemetry.ServerDuration.Record(_options.TimeProvider.GetElapsedTime(invocation.Arrived).TotalSeconds, tags);
        activity?.Dispose();
    }

    private ValueTask<WampPayload> InterceptInvocation(WampInvocation invocation, WampProcedureHandler handler, int index, CancellationToken cancellationToken)
    {
        var interceptors = _options.InvocationInterceptors;
        if (index == interceptors.Count) return handler(invocation, cancellationToken);
        return interceptors[index].InvokeAsync(invocation, (i, token) => InterceptInvocation(i, handler, index + 1, token), cancellationToken);
    }

    private static WampPayload ErrorDetails(Exception e)
    {
        // The exception's type and message only: a stack trace, inner exception or file path never leaves the process.
        var text = WampRuntimeJsonContext.Default.String;
        return new WampPayloadBuilder()
            .AddArgument(ExceptionText.WithoutPaths(e.Message), text)
            .AddKeywordArgument("exception", e.GetType().FullName, text)
            .Build();
    }

    /// <summary>Answers an INVOCATION with ERROR on the connection that delivered it (a lost connection drops it).</summary>
    private static void SendError(Connection connection, WampMessageType requestType, long requestId, string uri, WampPayload payload)
    {
        var frame = WampFrameWriter.Start(WampMessageType.Error).Id((int)requestType).Id(requestId).EmptyDict().String(uri).Payload(payload).ToFrame();
        connection.Sender.TryEnqueue(frame);
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

    /// <summary>
    /// Unregisters (bounded by the session's operation timeout); a no-op once the session has ended. Never throws:
    /// when the router does not answer or refuses, the failure is logged and the registration released locally.
    /// </summary>
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
        catch (Exception e)
        {
            // Disposal never throws for the router's failure to answer: the registration is released here (no
            // handler runs for it any more) and the router drops it with the session at the latest.
            _session.Log.DisposeFailed(e, "UNREGISTER", _registered.Procedure);
        }
    }
}
