using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

public sealed partial class WampSession
{
    // Completes when the session is joined again after a lost connection; replaced at each loss.
    private TaskCompletionSource _reconnected = Connected();

    // Orders the hand-over of _reconnected from a reconnection whose new connection is lost again to the reconnection
    // that loss starts, against the first one completing it (see ReconnectAsync).
    private readonly Lock _reconnectedLock = new();

    private static TaskCompletionSource Connected()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.SetResult();
        return done;
    }

    /// <summary>
    /// One transport's worth of a session: its writer and reader loops, and the requests sent over it. A lost
    /// connection fails its own requests; a reconnection starts a new one, so nothing of the old can leak into it.
    /// </summary>
    internal sealed class Connection(IWampTransport transport, WampSession session)
    {
        public WampSession Session { get; } = session;

        private int _lost;

        public IWampTransport Transport { get; } = transport;
        public FrameSender Sender { get; } = new();
        public PendingCallTable Pending { get; } = new();

        /// <summary>
        /// Invocations the router sent over this connection and the handler has not answered, by INVOCATION id. The
        /// router numbers them per connection, so they live and die with it: answers of a lost connection go nowhere.
        /// </summary>
        public InvocationTable Invocations { get; } = new();
        public CancellationTokenSource Stopped { get; } = new();
        /// <summary>Completes when the connection's reader has ended (see <see cref="Reader"/>).</summary>
        public Task ReceiveLoop => Reader?.Completion ?? Task.CompletedTask;

        /// <summary>Who reads the connection (its reader can be replaced when code it runs holds it, see <see cref="ReaderGuard"/>).</summary>
        public ReaderGuard? Reader { get; set; }
        public Task WriteLoop { get; set; } = Task.CompletedTask;
        public long SessionId { get; private set; }
        public WampDict WelcomeDetails { get; private set; }
        public bool RouterCallCanceling { get; private set; }
        public bool IsLost => Volatile.Read(ref _lost) != 0;

        public void Welcome(long sessionId, WampDict details)
        {
            SessionId = sessionId;
            WelcomeDetails = details;
            var dealer = details.GetDict("roles"u8).GetDict("dealer"u8).GetDict("features"u8);
            RouterCallCanceling = dealer.GetBool("call_canceling"u8) || dealer.GetBool("call_cancelling"u8);
        }

        /// <summary>True for the first caller only: a connection is lost once.</summary>
        public bool MarkLost() => Interlocked.Exchange(ref _lost, 1) == 0;
    }

    /// <summary>
    /// Joins <paramref name="realm"/> on the first reachable router of <paramref name="urls"/> (nodes of one router
    /// cluster, see docs/scale-out.md). With <see cref="WampSessionOptions.Reconnect"/> set, a lost connection is opened
    /// again to the next reachable node in the list (with the policy's backoff between rounds), and the session
    /// re-registers its procedures and re-subscribes its topics there.
    /// </summary>
    /// <exception cref="WampConnectionException">No router of the list could be joined (the last failure is reported).</exception>
    public static Task<WampSession> ConnectToClusterAsync(IReadOnlyList<Uri> urls, string realm, WampSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(urls);
        if (urls.Count == 0) throw new ArgumentException("at least one router URL is needed", nameof(urls));
        options ??= new WampSessionOptions();
        var connectOptions = options;
        Uri[] nodes = [.. urls];
        int next = 0; // the node tried first: after a loss, the one after the node that was lost
        return JoinAsync(async ct =>
        {
            Exception? last = null;
            int start = Volatile.Read(ref next);
            for (int i = 0; i < nodes.Length; i++)
            {
                int at = (start + i) % nodes.Length;
                try
                {
                    // The rotation moves on before the attempt: a node whose connect hangs until the attempt's bound
                    // is not tried first again next time.
                    Volatile.Write(ref next, (at + 1) % nodes.Length);
                    return await OpenTransportAsync(nodes[at], realm, connectOptions, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is WampConnectionException or IOException or System.Net.WebSockets.WebSocketException)
                {
                    last = e;
                }
            }
            throw last as WampConnectionException ?? new WampConnectionException(WampConnectionException.TransportLost,
                $"none of the {nodes.Length} routers could be reached: {last?.Message}", last);
        }, realm, options, cancellationToken);
    }

    private void StartLoops(Connection connection)
    {
        // The loops carry none of the connecting code's ambient state (a deadline scope, say): handlers that run
        // inline run on the reader.
        using var noFlow = ExecutionContext.SuppressFlow();
        connection.WriteLoop = Task.Run(() => WriteLoopAsync(connection), CancellationToken.None);
        connection.Reader = new ReaderGuard(generation => StartReader(connection, generation));
        connection.Reader.Start();
    }

    /// <summary>
    /// Starts a reader loop: on a thread of its own for a transport whose reads wait in the kernel (one wake-up per
    /// message), else on the thread pool.
    /// </summary>
    private void StartReader(Connection connection, int generation)
    {
        using var noFlow = ExecutionContext.IsFlowSuppressed() ? default : ExecutionContext.SuppressFlow();
        var channel = connection.Transport switch
        {
            WebSocketConnection websocket => websocket.Channel,
            RawSocketTransport rawSocket => rawSocket.Channel,
            _ => null,
        };
        if (channel is SocketChannel own)
        {
            // Reads complete on that thread, so the loop runs there to its end (it catches what it can meet).
            _ = ReaderThread.Start(own, () => ReceiveLoopAsync(connection, generation))
                .ContinueWith(static (t, s) => ((WampSession)s!)._log.ReceiveFailed(t.Exception!.InnerException!, ((WampSession)s!).Realm),
                    this, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }
        _ = Task.Run(() => ReceiveLoopAsync(connection, generation), CancellationToken.None);
    }

    /// <summary>
    /// The transport failed or closed. With a reconnect policy the session survives: what was pending on this
    /// connection fails at once (so nothing hangs), and a new connection is opened in the background.
    /// </summary>
    /// <remarks>With <c>flush</c>, what is queued (an ABORT, a GOODBYE reply) is written before the transport closes.</remarks>
    private void ConnectionLost(Connection connection, string reason, string message, Exception? error, bool flush = false)
    {
        if (_goodbyeSent || _options.Reconnect is null || _reconnectTransport is null || Volatile.Read(ref _terminated) != 0)
        {
            Terminate(reason, message, error, closeGracefully: flush);
            return;
        }
        // A connection is lost once, and only the current one starts a reconnection.
        if (!ReferenceEquals(connection, _connection) || !connection.MarkLost()) return;
        _log.ConnectionLost(Realm, reason, message);
        // Callers already waiting for a reconnection that did not finish keep waiting for this one.
        TaskCompletionSource signal;
        lock (_reconnectedLock)
        {
            signal = _reconnected;
            if (signal.Task.IsCompleted)
            {
                signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref _reconnected, signal);
            }
        }
        Disconnect(connection, new WampConnectionException(reason, message, error) { Reconnecting = true }, closeGracefully: flush);
        _ = ReconnectAsync(_options.Reconnect, signal);
    }

    /// <summary>Ends one connection: fails its pending requests, cancels its running invocations, stops its loops.</summary>
    private void Disconnect(Connection connection, WampConnectionException failure, bool closeGracefully)
    {
        connection.MarkLost();
        connection.Sender.Complete();
        connection.Pending.CloseAndFailAll(failure);
        foreach (var invocation in connection.Invocations.Snapshot()) invocation.Interrupt(byRouter: true);
        if (closeGracefully)
        {
            _ = CloseTransportAsync(connection, _options.OperationTimeout, _options.TimeProvider);
        }
        else
        {
            connection.Transport.Abort();
            connection.Stopped.Cancel();
        }
    }

    private static async Task CloseTransportAsync(Connection connection, TimeSpan bound, TimeProvider time)
    {
        // Let the writer loop flush what is queued (a GOODBYE or ABORT), then close the transport.
        await connection.WriteLoop.WaitAsync(bound, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        using var timeout = new CancellationTokenSource(bound, time);
        await connection.Transport.CloseAsync(timeout.Token).ConfigureAwait(false);
        await connection.ReceiveLoop.WaitAsync(bound, time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        connection.Transport.Abort();
        connection.Stopped.Cancel();
    }

    /// <param name="policy">The delays between attempts, and how many.</param>
    /// <param name="signal">Completed once this reconnection is done (a later loss gets a signal of its own).</param>
    private async Task ReconnectAsync(WampReconnectPolicy policy, TaskCompletionSource signal)
    {
        for (int attempt = 1; policy.MaxAttempts is null || attempt <= policy.MaxAttempts; attempt++)
        {
            Connection connection;
            try
            {
                var delay = policy.DelayBefore(attempt);
                await Task.Delay(delay, _options.TimeProvider, _closed.Token).ConfigureAwait(false);
                _log.Reconnecting(Realm, attempt, delay.TotalMilliseconds);
                using var bound = CancellationTokenSource.CreateLinkedTokenSource(_closed.Token);
                bound.CancelAfter(_options.ConnectTimeout);
                try
                {
                    connection = new Connection(await _reconnectTransport!(bound.Token).ConfigureAwait(false), this);
                    try
                    {
                        await HandshakeAsync(connection, bound.Token).ConfigureAwait(false);
                    }
                    catch
                    {
                        connection.Transport.Abort();
                        throw;
                    }
                }
                catch (OperationCanceledException) when (bound.IsCancellationRequested && !_closed.IsCancellationRequested)
                {
                    // The attempt's bound, not the session's end (it starts before the handshake's own timeout of the
                    // same length, so it fires first): a failed attempt, named as the first join names it.
                    throw new WampConnectionException(WampConnectionException.TransportLost,
                        $"The router did not welcome the session to realm '{Realm}' within {_options.ConnectTimeout.TotalMilliseconds:0} ms.");
                }
            }
            catch (OperationCanceledException) when (_closed.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _log.ReconnectFailed(e, Realm, attempt);
                ReportHandlerError(e); // a failed attempt: try again after the next delay
                continue;
            }
            if (Volatile.Read(ref _terminated) != 0)
            {
                connection.Transport.Abort();
                return;
            }
            _connection = connection;
            if (Volatile.Read(ref _terminated) != 0)
            {
                // Ended while the connection was installed: Terminate may have closed the one before it.
                Disconnect(connection, Closed(), closeGracefully: false);
                return;
            }
            StartLoops(connection);
            try
            {
                await RestoreAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Lost again while restoring: that loss started a reconnection of its own, which completes the signal.
                if (connection.IsLost) return;
                _log.ReconnectFailed(e, Realm, attempt);
                ReportHandlerError(e);
                if (!connection.MarkLost()) return;
                Disconnect(connection, new WampConnectionException(WampConnectionException.TransportLost,
                    $"Restoring the session's registrations and subscriptions failed: {e.Message}", e) { Reconnecting = true }, closeGracefully: false);
                continue;
            }
            lock (_reconnectedLock)
            {
                // Lost again once restored: the reconnection that loss started has taken the signal over, and completes
                // it when the session is joined; completing it now would wake waiters to a session still reconnecting.
                if (connection.IsLost) return;
                signal.TrySetResult();
            }
            _log.Reconnected(Realm, connection.SessionId, attempt);
            return;
        }
        Terminate(WampConnectionException.TransportLost, $"The connection to the router was lost and {policy.MaxAttempts} reconnection attempts failed.", null);
    }

    /// <summary>Registers the procedures and subscribes the topics the session had, on the new connection.</summary>
    private async Task RestoreAsync()
    {
        foreach (var procedure in ActiveProcedures())
            await RegisterOnConnectionAsync(procedure, CancellationToken.None).ConfigureAwait(false);
        foreach (var group in ActiveSubscriptionGroups())
            await SubscribeOnConnectionAsync(group, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until the session is joined (at once when it is), bounded by <paramref name="cancellationToken"/>.
    /// </summary>
    /// <exception cref="WampConnectionException">The session has ended.</exception>
    public async Task WaitUntilConnectedAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _terminated) == 0) await _reconnected.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Volatile.Read(ref _terminated) != 0) throw Closed();
    }
}

/// <summary>
/// How a session opens its connection again after losing it: exponential backoff with full jitter. The session
/// keeps its procedures and subscriptions and restores them on the new connection.
/// </summary>
public sealed class WampReconnectPolicy
{
    /// <summary>The defaults, a new instance each time (so nothing shared can be changed for every session).</summary>
    public static WampReconnectPolicy Default => new();

    /// <summary>The delay before the first attempt is drawn from [0, <see cref="InitialDelay"/>). Default 100 ms.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The largest delay between attempts. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How much the delay's bound grows per attempt. Default 2.</summary>
    public double Multiplier { get; init; } = 2;

    /// <summary>Attempts before the session gives up and ends; null: keep trying. Default null.</summary>
    public int? MaxAttempts { get; init; }

    internal TimeSpan DelayBefore(int attempt) => Backoff.FullJitter(InitialDelay, MaxDelay, Multiplier, attempt);
}

/// <summary>
/// A connection's running invocations by INVOCATION id, under one lock (added by the reader, removed by whichever
/// thread ends the handler): no node object per entry, and an idle connection holds an empty map.
/// </summary>
internal sealed class InvocationTable
{
    private readonly Dictionary<long, WampInvocation> _map = new();
    private readonly Lock _lock = new();

    /// <summary>False when an invocation with that id is still running.</summary>
    public bool TryAdd(long requestId, WampInvocation invocation)
    {
        lock (_lock) return _map.TryAdd(requestId, invocation);
    }

    public bool TryGetValue(long requestId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out WampInvocation invocation)
    {
        lock (_lock) return _map.TryGetValue(requestId, out invocation);
    }

    /// <summary>Removes <paramref name="invocation"/> only if it is still the entry for its id.</summary>
    public void Remove(WampInvocation invocation)
    {
        lock (_lock)
            if (_map.TryGetValue(invocation.RequestId, out var found) && ReferenceEquals(found, invocation)) _map.Remove(invocation.RequestId);
    }

    public WampInvocation[] Snapshot()
    {
        lock (_lock) return [.. _map.Values];
    }
}
