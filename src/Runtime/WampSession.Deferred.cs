using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

public sealed partial class WampSession
{
    /// <summary>
    /// A session that exists before it is joined: it returns at once and joins in the background, the way it
    /// reconnects (<see cref="WampSessionOptions.Reconnect"/>, which must be set). Calls made meanwhile wait for the
    /// join within their own time limit, as they do during a reconnection; <see cref="WaitUntilConnectedAsync"/> waits
    /// for it. Used by hosts that hand out proxies before the router is reachable.
    /// </summary>
    internal static WampSession StartJoining(Func<CancellationToken, Task<IWampTransport>> connect, string realm, WampSessionOptions options)
    {
        ArgumentNullException.ThrowIfNull(connect);
        ArgumentNullException.ThrowIfNull(options);
        var policy = options.Reconnect ?? throw new ArgumentException("A session that joins in the background needs a reconnect policy.", nameof(options));
        if (!WampUris.IsValidLoose(realm))
            throw new ArgumentException($"'{realm}' is not a valid realm URI.", nameof(realm));
        options.Authentication?.Validate();
        var session = new WampSession(NotJoinedTransport.Instance, realm, options) { _reconnectTransport = connect };
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (session._reconnectedLock) Volatile.Write(ref session._reconnected, signal);
        session.Disconnect(session._connection,
            new WampConnectionException(WampConnectionException.TransportLost, "The session has not joined the router yet.") { Reconnecting = true },
            closeGracefully: false);
        session._eventLoop = Task.Run(session.EventLoopAsync, CancellationToken.None);
        _ = session.ReconnectAsync(policy, signal);
        return session;
    }

    /// <summary>
    /// Waits for the session to be joined, at most <see cref="WampSessionOptions.OperationTimeout"/>; returns either
    /// way (what is sent next then fails as it would have, with <see cref="WampConnectionException"/>).
    /// </summary>
    internal async Task WaitForJoinAsync(CancellationToken cancellationToken)
    {
        using var limit = new CancellationTokenSource(_options.OperationTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await WaitUntilConnectedAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // Not joined in time: the caller's send reports it.
        }
        catch (WampConnectionException)
        {
            // The session has ended: the caller's send reports it.
        }
    }

    /// <summary>The transport of a session that has not joined yet: it carries nothing.</summary>
    private sealed class NotJoinedTransport : IWampTransport
    {
        public static readonly NotJoinedTransport Instance = new();

        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) =>
            ValueTask.FromException(new WampConnectionException(WampConnectionException.TransportLost, "The session has not joined the router yet.") { Reconnecting = true });

        public ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken) => ValueTask.FromResult(WampReceiveResult.Closed);

        public ValueTask CloseAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void Abort()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
