using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using WampContracts.Protocol;

namespace WampContracts;

/// <summary>
/// How an attempt of a generated proxy's call ended, once the <see cref="ValueTask"/> it came with has completed (that
/// await never throws): its result, or the exception it failed with. <see cref="Release"/> when read.
/// </summary>
internal interface IAttemptOutcome
{
    WampResult Result { get; }

    Exception? Error { get; }

    /// <summary>The outcome has been read: the attempt's objects may be reused from here on.</summary>
    void Release();
}

/// <summary>The outcome of an attempt made as a task (with interceptors or telemetry, or after a wait for the connection).</summary>
internal sealed class TaskAttemptOutcome(Task<WampResult> attempt) : IAttemptOutcome
{
    public WampResult Result => attempt.Result;

    public Exception? Error
    {
        get
        {
            if (attempt.IsCompletedSuccessfully) return null;
            try
            {
                attempt.GetAwaiter().GetResult();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }
    }

    public void Release()
    {
    }

    /// <summary>Completes with the attempt, whatever its end, without throwing (the outcome reads the failure).</summary>
    public static async ValueTask Settled(Task attempt) => await attempt.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

    /// <summary>An attempt that failed before it started.</summary>
    public static ValueTask Failed(Exception error, out IAttemptOutcome outcome)
    {
        outcome = new TaskAttemptOutcome(Task.FromException<WampResult>(error));
        return ValueTask.CompletedTask;
    }
}

/// <summary>A RESULT: the callee's payload and the dealer's details. <see cref="IsProgress"/> marks a progressive result.</summary>
public readonly struct WampResult
{
    public WampResult(WampPayload payload, WampDict details, bool isProgress)
    {
        Payload = payload;
        Details = details;
        IsProgress = isProgress;
    }

    internal WampResult(WampPayload payload, WampDict details, bool isProgress, int bufferedSize) : this(payload, details, isProgress) =>
        BufferedSize = bufferedSize;

    /// <summary>Bytes this result counts against the session's buffer bound until the stream's consumer takes it.</summary>
    internal int BufferedSize { get; }

    public WampPayload Payload { get; }

    public WampDict Details { get; }

    public bool IsProgress { get; }

    public override string ToString() => (IsProgress ? "progress " : "") + Payload;
}

public sealed partial class WampSession
{
    /// <summary>
    /// Calls <paramref name="procedure"/> and returns its final result. Progressive results, if the callee sends
    /// any, are not asked for; use <see cref="StreamAsync(string, WampPayload, WampCallOptions?, CancellationToken)"/> to receive them.
    /// </summary>
    /// <exception cref="WampException">The callee or the router answered with ERROR.</exception>
    /// <exception cref="WampConnectionException">The session closed or was lost before the answer arrived.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; a CANCEL was sent to the router.</exception>
    public Task<WampResult> CallAsync(string procedure, WampPayload payload = default, WampCallOptions? options = null, CancellationToken cancellationToken = default) =>
        CallAsync(procedure, payload, options, method: null, attempt: 1, cancellationToken);

    /// <summary>One attempt of a call: through the interceptors and telemetry when there are any, else straight to the wire.</summary>
    internal Task<WampResult> CallAsync(string procedure, WampPayload payload, WampCallOptions? options, WampMethodDescriptor? method, int attempt, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<WampResult>(cancellationToken);
        options ??= WampCallOptions.Default;
        if (CallsGoStraightToTheWire)
            return SendCall(procedure, payload, options, attempt, WampCallContext.Current, cancellationToken);
        return CallObservedAsync(new WampOutgoingCall(this, procedure, payload, options, method, attempt), cancellationToken);
    }

    /// <summary>No call interceptors and nobody listening to call telemetry: the common case allocates nothing for either.</summary>
    private bool CallsGoStraightToTheWire => _options.CallInterceptors.Count == 0 && !WampTelemetry.CallsObserved;

    /// <summary>
    /// Starts the first attempt of a generated proxy's call: the returned task completes (never faulted) when the attempt
    /// ends, and then <paramref name="outcome"/> tells how. A plain call is itself what is awaited, so the attempt makes
    /// no task of its own.
    /// </summary>
    internal ValueTask StartAttempt(string procedure, WampPayload payload, WampCallOptions? options, WampMethodDescriptor method,
        CancellationToken cancellationToken, out IAttemptOutcome outcome)
    {
        options ??= WampCallOptions.Default;
        try
        {
            if (!CallsGoStraightToTheWire || cancellationToken.IsCancellationRequested)
            {
                var task = CallAsync(procedure, payload, options, method, attempt: 1, cancellationToken);
                outcome = new TaskAttemptOutcome(task);
                return TaskAttemptOutcome.Settled(task);
            }
            var call = PendingCall.RentForOutcome(this, procedure, options, cancellationToken);
            var settled = call.Settled; // taken before the call starts: it is what the caller awaits
            StartCall(call, payload, receiveProgress: false, attempt: 1, WampCallContext.Current);
            outcome = call;
            return settled;
        }
        catch (Exception e)
        {
            // Refused before it started (an invalid URI, no time left, no connection): the same outcome as a failed
            // attempt (a call object that never started is left to the collector).
            return TaskAttemptOutcome.Failed(e, out outcome);
        }
    }

    private Task<WampResult> SendCall(string procedure, WampPayload payload, WampCallOptions options, int attempt,
        IReadOnlyDictionary<string, string>? metadata, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<WampResult>(cancellationToken);
        var call = PendingCall.Rent(this, procedure, options, cancellationToken);
        // Taken before the call starts: once started and answered, the call object goes back to its pool.
        var task = call.Task;
        StartCall(call, payload, receiveProgress: false, attempt, metadata);
        return task;
    }

    /// <summary>A client span and the call metrics around the interceptors and the CALL (one attempt).</summary>
    private async Task<WampResult> CallObservedAsync(WampOutgoingCall call, CancellationToken cancellationToken)
    {
        var method = call.Method;
        using var activity = WampTelemetry.Start(WampTelemetry.SpanName(method, call.Procedure), ActivityKind.Client, default, method,
            WampTelemetry.Procedure, call.Procedure);
        if (activity is { IsAllDataRequested: true } && (method is not null || call.Attempt > 1)) activity.SetTag(WampTelemetry.Attempt, call.Attempt);
        var tags = WampTelemetry.Tags(method, call.Procedure);
        bool counted = WampTelemetry.ActiveCalls.Enabled;
        if (counted) WampTelemetry.ActiveCalls.Add(1, tags);
        var time = _options.TimeProvider;
        long started = time.GetTimestamp();
        var outcome = tags;
        try
        {
            return await InterceptCall(call, 0, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            WampTelemetry.Fail(activity, e, ref outcome);
            if (e is WampTimeoutException) WampTelemetry.Timeouts.Add(1, tags);
            throw;
        }
        finally
        {
            if (counted) WampTelemetry.ActiveCalls.Add(-1, tags);
            WampTelemetry.ClientDuration.Record(time.GetElapsedTime(started).TotalSeconds, outcome);
        }
    }

    private Task<WampResult> InterceptCall(WampOutgoingCall call, int index, CancellationToken cancellationToken)
    {
        var interceptors = _options.CallInterceptors;
        if (index == interceptors.Count)
        {
            // Keys an interceptor added are checked before anything is written.
            var metadata = call.MetadataOrNull;
            if (metadata is not null) foreach (var key in metadata.Keys) WampCallContext.CheckKey(key);
            return SendCall(call.Procedure, call.Payload, call.Options ?? WampCallOptions.Default, call.Attempt, metadata, cancellationToken);
        }
        return interceptors[index].CallAsync(call, (next, token) => InterceptCall(next, index + 1, token), cancellationToken);
    }

    /// <summary>
    /// Calls <paramref name="procedure"/> asking for progressive results, and yields each progressive result and
    /// then the final one (<see cref="WampResult.IsProgress"/> false). Leaving the loop early cancels the call.
    /// </summary>
    public IAsyncEnumerable<WampResult> StreamAsync(string procedure, WampPayload payload = default, WampCallOptions? options = null,
        CancellationToken cancellationToken = default) =>
        StreamAsync(procedure, payload, options, method: null, cancellationToken);

    internal async IAsyncEnumerable<WampResult> StreamAsync(string procedure, WampPayload payload, WampCallOptions? options, WampMethodDescriptor? method,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var call = PendingCall.ForStream(this, procedure, options ?? WampCallOptions.Default, cancellationToken);
        // A client span from the CALL to the stream's end when someone listens (its context goes out with the CALL).
        // An async iterator restores the consumer's Activity.Current after each step, so the span never leaks to it.
        var activity = WampTelemetry.Source.HasListeners()
            ? WampTelemetry.Start(WampTelemetry.SpanName(method, procedure), ActivityKind.Client, default, method, WampTelemetry.Procedure, procedure)
            : null;
        try
        {
            StartCall(call, payload, receiveProgress: true, attempt: 1, WampCallContext.Current);
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
        try
        {
            await foreach (var item in call.Stream!.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                Unbuffer(item.BufferedSize);
                yield return item;
            }
        }
        finally
        {
            // A stream that ended in an error marks its span; one the consumer left early does not.
            if (activity is not null && call.Stream!.Reader.Completion is { IsFaulted: true } failed)
            {
                var tags = default(TagList);
                WampTelemetry.Fail(activity, failed.Exception!.InnerException!, ref tags);
            }
            call.Abandon();
            // What the consumer left unread no longer counts.
            while (call.Stream!.Reader.TryRead(out var left)) Unbuffer(left.BufferedSize);
            activity?.Dispose();
        }
    }

    private void StartCall(PendingCall call, WampPayload payload, bool receiveProgress, int attempt, IReadOnlyDictionary<string, string>? metadata)
    {
        if (!WampUris.IsValidLoose(call.Procedure))
            throw new ArgumentException($"'{call.Procedure}' is not a valid procedure URI.", "procedure");
        var limit = AttemptLimit(call.Options);
        if (limit is { } l && l <= TimeSpan.Zero)
            throw new WampTimeoutException(call.Procedure, TimeSpan.Zero, TimeSpan.Zero, attempts: 0); // no attempt that cannot finish
        call.Limit = limit;
        long id = NextRequestId();
        call.RequestId = id;
        var w = WampFrameWriter.Start(WampMessageType.Call).Id(id);
        // The caller's trace context (its own activity or the application's) travels with the call, and so does metadata.
        var (traceParent, traceState) = CallExtras.CurrentTraceContext();
        var extras = new CallExtras { TraceParent = traceParent, TraceState = traceState, Attempt = attempt, Metadata = metadata };
        WriteCallOptions(w.Json, call.Options, receiveProgress, limit, extras);
        if (_options.MetadataInPayload) payload = CallMetadata.AddToPayload(payload, call.Options.IdempotencyKey, limit, extras);
        var frame = w.String(call.Procedure).Payload(payload).ToFrame();

        // IMPORTANT: the entry goes into the table before the CALL is queued, so an answer can never miss it.
        var connection = _connection;
        call.Connection = connection;
        if (!connection.Pending.TryAdd(id, call))
        {
            frame.Release();
            throw NotConnected();
        }
        // The limit runs from before the CALL leaves: the send may put it on the wire at once.
        call.Started = _options.TimeProvider.GetTimestamp();
        if (limit is { } timeout) _timers.Schedule(call, timeout);
        if (!connection.Sender.TryEnqueue(frame))
        {
            if (limit is not null) _timers.Cancel(call);
            // Lost meanwhile. If the loss already took the entry, it failed the call: the caller gets that failure
            // from the call's task (thrown here instead, it would leave that task faulted and unobserved).
            if (connection.Pending.TryRemove(id, call)) throw NotConnected();
            return;
        }
        call.WatchCancellation();
        call.UndoIfAlreadyDone();
        call.Release(); // IMPORTANT: last; the call may be reused from here on
    }

    /// <summary>An attempt's limit, most specific first (scope, call, session default), capped by what remains of the ambient deadline.</summary>
    internal TimeSpan? AttemptLimit(WampCallOptions? options)
    {
        var limit = WampTimeout.Current ?? options?.Timeout ?? _options.DefaultCallTimeout;
        if (WampDeadline.Current is { } deadline && (limit is null || deadline.Remaining < limit)) limit = deadline.Remaining;
        return limit;
    }

    private static void WriteCallOptions(Utf8JsonWriter w, WampCallOptions options, bool receiveProgress, TimeSpan? limit, in CallExtras extras)
    {
        w.WriteStartObject();
        if (receiveProgress) w.WriteBoolean("receive_progress"u8, true);
        if (limit is { } timeout) w.WriteNumber("timeout"u8, TimeLimit.ToWireMilliseconds(timeout));
        if (options.DiscloseMe) w.WriteBoolean("disclose_me"u8, true);
        if (options.IdempotencyKey is { } idempotencyKey) w.WriteString(CallMetadata.IdempotencyKeyOption, idempotencyKey);
        if (options.CustomOptions is { } custom)
        {
            foreach (var (key, json) in custom)
            {
                if (!key.StartsWith("x_", StringComparison.Ordinal))
                    throw new ArgumentException($"Custom call option '{key}' must start with 'x_'.", nameof(options));
                w.WritePropertyName(key);
                w.WriteRawValue(json);
            }
        }
        extras.WriteOptions(w, options.CustomOptions);
        w.WriteEndObject();
    }

    private static void SendCancel(Connection connection, long requestId, WampCancelMode mode)
    {
        var w = WampFrameWriter.Start(WampMessageType.Cancel).Id(requestId);
        w.Json.WriteStartObject();
        w.Json.WriteString("mode"u8, mode.ToWire());
        w.Json.WriteEndObject();
        connection.Sender.TryEnqueue(w.ToFrame());
    }

    /// <summary>Turns an ERROR into the exception the caller sees.</summary>
    internal static WampException ToException(in WampMessage error)
    {
        string uri = error.Uri ?? WampUris.RuntimeError;
        var payload = error.Payload;
        // fox-wamp replaces a callee's error URI with wamp.error.callee_failure and passes the original URI as
        // the only argument (dropping the rest): surface the original URI, which is what the callee meant.
        if (uri == WampUris.CalleeFailure && payload.GetArgumentJson(0) is { IsEmpty: false } first && first.Span[0] == (byte)'"')
        {
            string? original = JsonSerializer.Deserialize(first.Span, WampRuntimeJsonContext.Default.String);
            if (original is not null && WampUris.IsValidLoose(original) && payload.ArgumentCount == 1)
                return new WampException(original, WampPayload.Empty, $"{original} (the router reported it as {WampUris.CalleeFailure} and dropped its arguments)")
                { Details = error.Dict };
        }
        return new WampException(uri, payload) { Details = error.Dict };
    }

    /// <summary>One outstanding CALL. Completes exactly once: RESULT, ERROR, cancellation or session loss.</summary>
    /// <remarks>
    /// A plain call's object is reused (<see cref="Rent"/>): it holds nothing of the caller's once its task is complete,
    /// and goes back to a pool of the process when both the code that started it and the answer that ended it are done
    /// with it (<see cref="Release"/>). A call that ended any other way than cleanly (its timer or its token fired, a
    /// cancel was asked) may still be reached by a callback, so it is left to the garbage collector instead.
    /// </remarks>
    private sealed class PendingCall : PendingRequest, ITimed, IValueTaskSource, IAttemptOutcome
    {
        private const int Pending = 0, CancelRequested = 1, Done = 2;

        /// <summary>The most calls the process keeps for reuse (about 200 bytes each).</summary>
        internal const int PoolSize = 256;

        private static readonly ReusePool<PendingCall> s_pool = new(PoolSize);

        private WampSession _session = null!;
        private CancellationToken _token;
        // A plain call's task: the builder makes it without a completion source object of its own.
        private AsyncTaskMethodBuilder<WampResult> _task;
        // Or, for a proxy's attempt, its outcome, kept here and awaited on this object itself (no task at all).
        private ManualResetValueTaskSourceCore<bool> _settled;
        private WampResult _result;
        private Exception? _error;
        private bool _awaitedAsOutcome;
        private CancellationTokenRegistration _registration;
        private ITimer? _graceTimer;
        private int _state;
        // Who still uses a plain call: the code that starts it, and its end when that was clean (see Release).
        private int _holds;

        private PendingCall()
        {
        }

        /// <summary>A plain call, from the pool when it has one.</summary>
        public static PendingCall Rent(WampSession session, string procedure, WampCallOptions options, CancellationToken token)
        {
            var call = Take(session, procedure, options, token, holds: 2);
            _ = call._task.Task; // IMPORTANT: made here, before another thread can complete it
            return call;
        }

        /// <summary>
        /// A plain call whose end is awaited on the call itself (<see cref="Settled"/>) and read from it
        /// (<see cref="IAttemptOutcome"/>); the reading of the outcome is the third user the call waits for before it
        /// goes back to the pool.
        /// </summary>
        public static PendingCall RentForOutcome(WampSession session, string procedure, WampCallOptions options, CancellationToken token)
        {
            var call = Take(session, procedure, options, token, holds: 3);
            call._awaitedAsOutcome = true;
            return call;
        }

        private static PendingCall Take(WampSession session, string procedure, WampCallOptions options, CancellationToken token, int holds)
        {
            var call = s_pool.TryTake() ?? new PendingCall();
            call._session = session;
            call.Procedure = procedure;
            call.Options = options;
            call._token = token;
            call._holds = holds;
            return call;
        }

        /// <summary>Completes, never faulted, when a call rented with <see cref="RentForOutcome"/> has ended.</summary>
        public ValueTask Settled => new(this, _settled.Version);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _settled.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _settled.OnCompleted(continuation, state, token, flags);

        void IValueTaskSource.GetResult(short token) => _settled.GetResult(token);

        WampResult IAttemptOutcome.Result => _result;

        Exception? IAttemptOutcome.Error => _error;

        /// <summary>A call whose results go to <see cref="Stream"/> (never reused).</summary>
        public static PendingCall ForStream(WampSession session, string procedure, WampCallOptions options, CancellationToken token) => new()
        {
            _session = session,
            Procedure = procedure,
            Options = options,
            _token = token,
            Stream = Channel.CreateUnbounded<WampResult>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true }),
        };

        /// <summary>One user of a plain call is done with it; the last one puts it back in the pool.</summary>
        public void Release()
        {
            if (Stream is not null || Interlocked.Decrement(ref _holds) != 0) return;
            _session = null!;
            Procedure = null!;
            Options = null!;
            Connection = null!;
            _token = default;
            _task = default;
            if (_awaitedAsOutcome)
            {
                _settled.Reset(); // the next await's version
                _result = default;
                _error = null;
                _awaitedAsOutcome = false;
            }
            _registration = default;
            _graceTimer = null;
            _state = Pending;
            RequestId = 0;
            Limit = null;
            Started = 0;
            s_pool.Return(this);
        }

        // Continuations run where the call completes: on the reader that got the answer (see ReaderGuard), so the
        // answer costs no hop to another thread; from anywhere else (a timer, a token, a lost connection) they are
        // handed to the thread pool (Deliver).

        /// <summary>Completes the task: at once on a reader that runs continuations, else on the thread pool; then lets go of a call that ended cleanly.</summary>
        private void Deliver(WampResult result, Exception? error, bool clean)
        {
            if (Transport.ReaderGuard.t_inline) Complete(result, error, clean);
            else ThreadPool.UnsafeQueueUserWorkItem(new Delivery(this, result, error, clean), preferLocal: false);
        }

        private void Complete(WampResult result, Exception? error, bool clean)
        {
            if (_awaitedAsOutcome)
            {
                (_result, _error) = (result, error);
                _settled.SetResult(true);
            }
            else if (error is null) _task.SetResult(result);
            else _task.SetException(error);
            if (clean) Release();
        }

        /// <summary>An answer handed to the thread pool (one that did not arrive on a reader that runs continuations).</summary>
        private sealed class Delivery(PendingCall call, WampResult result, Exception? error, bool clean) : IThreadPoolWorkItem
        {
            public void Execute() => call.Complete(result, error, clean);
        }

        public string Procedure { get; private set; } = null!;

        public WampCallOptions Options { get; private set; } = null!;

        public long RequestId { get; set; }

        /// <summary>The connection the CALL went out on: its table holds the entry, its router gets the CANCEL.</summary>
        public Connection Connection { get; set; } = null!;

        public TimeSpan? Limit { get; set; }

        public long Started { get; set; }

        long ITimed.TimerDue { get; set; }

        object? ITimed.TimerList { get; set; }

        ITimed? ITimed.TimerPrevious { get; set; }

        ITimed? ITimed.TimerNext { get; set; }

        public Channel<WampResult>? Stream { get; private init; }

        /// <summary>A plain call's task.</summary>
        public Task<WampResult> Task => _task.Task;

        public void WatchCancellation()
        {
            if (_token.CanBeCanceled)
                _registration = _token.UnsafeRegister(static s => ((PendingCall)s!).OnCallerCanceled(), this);
        }

        /// <summary>
        /// The answer can arrive (on the reader) before the timer and the token are set up: then nothing would ever
        /// undo them, and the call would stay reachable until its limit or the token's end.
        /// </summary>
        public void UndoIfAlreadyDone()
        {
            if (Volatile.Read(ref _state) != Done) return;
            _registration.Dispose();
            if (Limit is not null) _session._timers.Cancel(this);
        }

        /// <summary>The stream's consumer stopped reading before the end: cancel the call if it still runs.</summary>
        public void Abandon()
        {
            if (Volatile.Read(ref _state) == Done) return;
            OnCallerCanceled();
        }

        public override void OnAnswer(in WampMessage message)
        {
            bool progress = message.Dict.GetBool("progress"u8);
            if (progress)
            {
                // Whatever a router sends in between, a plain call's limit covers the whole call; a stream's limit
                // covers each gap between results (the protocol's rule).
                // A plain call asked for none; a canceled stream reads no more.
                if (Stream is null || Volatile.Read(ref _state) != Pending) return;
                int size = message.Raw.Length;
                if (!_session.TryBuffer(size))
                {
                    // The consumer fell too far behind: end the stream rather than hold without bound.
                    Overflow();
                    return;
                }
                if (!Stream.Writer.TryWrite(new WampResult(message.Payload, message.Dict, true, size))) _session.Unbuffer(size);
                if (Limit is { } limit && Volatile.Read(ref _state) == Pending) _session._timers.Schedule(this, limit);
                return;
            }
            if (!TryFinish(out bool clean)) return;
            var result = new WampResult(message.Payload, message.Dict, false);
            if (Stream is not null)
            {
                Stream.Writer.TryWrite(result);
                Stream.Writer.TryComplete();
            }
            else
            {
                Deliver(result, null, clean);
            }
        }

        public override void OnError(in WampMessage message)
        {
            bool cancelRequested = Volatile.Read(ref _state) == CancelRequested;
            if (cancelRequested && message.Uri == WampUris.Canceled)
                Fail(new OperationCanceledException($"The call to '{Procedure}' was canceled.", _token));
            else if (message.Uri == WampUris.Timeout && Limit is { } limit)
                Fail(TimedOut(limit, ToException(message))); // the dealer's timer won the race with ours
            else
                Fail(ToException(message));
        }

        public override void Fail(Exception error)
        {
            if (!TryFinish(out bool clean)) return;
            if (Stream is not null) Stream.Writer.TryComplete(error);
            else Deliver(default, error, clean);
        }

        /// <summary>
        /// Ends the call once; <paramref name="clean"/> when nothing else can reach it any more: it was neither being
        /// canceled nor expiring (a token's callback that runs now is waited for by the registration's disposal).
        /// </summary>
        private bool TryFinish(out bool clean)
        {
            int previous = Interlocked.Exchange(ref _state, Done);
            clean = false;
            if (previous == Done) return false;
            _registration.Dispose();
            _graceTimer?.Dispose();
            bool timerStopped = Limit is null || _session._timers.Cancel(this);
            clean = previous == Pending && timerStopped;
            return true;
        }

        /// <summary>The limit passed: cancel at the dealer (so the callee stops) and fail the call.</summary>
        public void OnExpired()
        {
            if (Volatile.Read(ref _state) == Done || !Connection.Pending.TryRemove(RequestId, this)) return;
            if (Connection.RouterCallCanceling) SendCancel(Connection, RequestId, Options.CancelMode ?? _session._options.CancelMode);
            Fail(TimedOut(Limit ?? TimeSpan.Zero, null));
        }

        private WampTimeoutException TimedOut(TimeSpan limit, Exception? inner) =>
            new(Procedure, _session._options.TimeProvider.GetElapsedTime(Started), limit, attempts: 1, inner);

        private void OnCallerCanceled()
        {
            if (Interlocked.CompareExchange(ref _state, CancelRequested, Pending) != Pending) return;
            var mode = Options.CancelMode ?? _session._options.CancelMode;
            bool routerCancels = Connection.RouterCallCanceling;
            if (routerCancels) SendCancel(Connection, RequestId, mode);

            if (mode == WampCancelMode.Kill && routerCancels)
            {
                // kill: the callee's answer decides the outcome; bound the wait in case it never comes.
                _graceTimer = _session._options.TimeProvider.CreateTimer(static s => ((PendingCall)s!).GiveUp(), this,
                    _session._options.KillModeGrace, Timeout.InfiniteTimeSpan);
                return;
            }
            GiveUp();
        }

        /// <summary>Progressive results past the session's buffer bound: cancel the call and fail the stream.</summary>
        private void Overflow()
        {
            if (Volatile.Read(ref _state) == Done || !Connection.Pending.TryRemove(RequestId, this)) return;
            if (Connection.RouterCallCanceling) SendCancel(Connection, RequestId, WampCancelMode.KillNoWait);
            Fail(new WampException(WampUris.PayloadSizeExceeded,
                $"The stream of '{Procedure}' was ended: its consumer fell more than MaxBufferedBytes ({_session._options.MaxBufferedBytes} bytes) behind."));
        }

        private void GiveUp()
        {
            if (Connection.Pending.TryRemove(RequestId, this))
                Fail(new OperationCanceledException($"The call to '{Procedure}' was canceled.", _token));
        }
    }
}
