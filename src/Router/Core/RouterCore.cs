using System.Collections.Concurrent;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Router.Core;

/// <summary>
/// The transport-independent router: accepts sessions on any <see cref="IWampTransport"/>, runs the HELLO/WELCOME
/// handshake, and hands each established session's messages to its <see cref="Realm"/>.
/// </summary>
internal sealed class RouterCore(WampRouterOptions options)
{
    private readonly ConcurrentDictionary<string, Realm> _realms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, RouterSession> _sessions = new();
    private readonly HashSet<string>? _allowedRealms = options.Realms is null ? null : new HashSet<string>(options.Realms, StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;
    private volatile bool _shuttingDown;
    private long _lastId;

    public WampRouterOptions Options { get; } = options;

    public int SessionCount => _sessions.Count;

    /// <summary>A router-scope id (registrations, subscriptions): sequential from 1.</summary>
    public long NextId() => Interlocked.Increment(ref _lastId);

    /// <summary>A global-scope id (publications): random in [1, 2^53], as the protocol asks.</summary>
    public long NewPublicationId() => Random.Shared.NextInt64(1, WampMessageParser.MaxId + 1);

    /// <summary>Serves one connection until the session ends, the peer disconnects, or the router stops.</summary>
    public async Task ServeAsync(IWampTransport transport, CancellationToken cancellationToken)
    {
        var session = new RouterSession(transport, Options.MaxQueuedMessagesPerSession);
        Interlocked.Increment(ref _connections);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        session.WriterLoop = RunWriterAsync(session);
        try
        {
            if (await HandshakeAsync(session, stop.Token).ConfigureAwait(false))
                await ReceiveLoopAsync(session, stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The peer disconnected, its transport broke, or the router is stopping: only this session ends.
        }
        finally
        {
            session.Realm?.Leave(session);
            _sessions.TryRemove(session.Id, out _);
            await CloseAsync(session).ConfigureAwait(false);
            if (Interlocked.Decrement(ref _connections) == 0 && _shuttingDown) _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Flushes what is queued (an ABORT or GOODBYE must reach the peer), then closes the transport and waits for the
    /// peer's close, all bounded by <see cref="WampRouterOptions.HandshakeTimeout"/>.
    /// </summary>
    private async Task CloseAsync(RouterSession session)
    {
        var transport = session.Transport;
        session.Sender.Complete();
        using var timeout = new CancellationTokenSource(Options.HandshakeTimeout, Options.TimeProvider);
        try
        {
            await session.WriterLoop.WaitAsync(timeout.Token).ConfigureAwait(false);
            await transport.CloseAsync(timeout.Token).ConfigureAwait(false);
            // Aborting before the peer has read our close could drop what we just sent: let it close in turn.
            while (!(await transport.ReceiveAsync(timeout.Token).ConfigureAwait(false)).IsClosed)
            {
            }
        }
        catch (Exception)
        {
            // The peer is gone or too slow to close: tear the connection down.
        }
        transport.Abort();
        await transport.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task RunWriterAsync(RouterSession session)
    {
        try
        {
            await session.Sender.RunAsync(session.Transport, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The connection broke while sending: make the reader notice and end the session.
            session.Transport.Abort();
        }
    }

    private async Task<bool> HandshakeAsync(RouterSession session, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Options.HandshakeTimeout, Options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        WampReceiveResult r;
        try
        {
            r = await session.Transport.ReceiveAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, $"no HELLO within {Options.HandshakeTimeout.TotalMilliseconds:0} ms"));
            return false;
        }
        if (r.IsClosed) return false;
        if (r.Oversized)
        {
            session.Send(RouterFrames.Abort(WampUris.PayloadSizeExceeded, $"HELLO larger than {Options.MaxMessageSize} bytes"));
            return false;
        }
        WampMessage hello;
        try
        {
            hello = WampMessageParser.Parse(r.Message);
        }
        catch (WampProtocolException e)
        {
            session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, e.Message));
            return false;
        }
        if (hello.Type != WampMessageType.Hello)
        {
            session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, $"the first message must be HELLO, not {hello.Type}"));
            return false;
        }
        string? realmName = hello.Uri;
        if (realmName is null || !WampUris.IsValidLoose(realmName))
        {
            session.Send(RouterFrames.Abort(WampUris.InvalidUri, $"'{realmName}' is not a valid realm URI"));
            return false;
        }
        var roles = hello.Dict.GetDict("roles"u8);
        if (roles.IsEmpty)
        {
            session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, "HELLO.Details.roles must name at least one role"));
            return false;
        }
        if (_allowedRealms is not null && !_allowedRealms.Contains(realmName))
        {
            session.Send(RouterFrames.Abort(WampUris.NoSuchRealm, $"realm '{realmName}' does not exist"));
            return false;
        }

        var callee = roles.GetDict("callee"u8).GetDict("features"u8);
        session.CalleeCallCanceling = callee.GetBool("call_canceling"u8) || callee.GetBool("call_cancelling"u8);
        session.CalleeCallTimeout = callee.GetBool("call_timeout"u8);
        // A callee that cannot be canceled is treated as not supporting progressive results (the protocol's rule).
        session.CalleeProgressiveResults = callee.GetBool("progressive_call_results"u8);

        do session.Id = Random.Shared.NextInt64(1, WampMessageParser.MaxId + 1);
        while (!_sessions.TryAdd(session.Id, session));
        session.AuthId = "anonymous-" + session.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var realm = _realms.GetOrAdd(realmName, static (name, core) => new Realm(name, core), this);
        session.Realm = realm;
        session.Send(Welcome(session, realmName));
        realm.Join(session);
        return true;
    }

    private WampFrame Welcome(RouterSession session, string realm)
    {
        var w = WampFrameWriter.Start(WampMessageType.Welcome).Id(session.Id);
        var json = w.Json;
        json.WriteStartObject();
        json.WriteString("agent"u8, Options.Agent);
        json.WriteString("realm"u8, realm);
        json.WriteString("authid"u8, session.AuthId);
        json.WriteString("authrole"u8, session.AuthRole);
        json.WriteString("authmethod"u8, "anonymous");
        json.WriteString("authprovider"u8, "static");
        json.WriteStartObject("roles"u8);
        json.WriteStartObject("broker"u8);
        json.WriteStartObject("features"u8);
        foreach (var f in BrokerFeatures) json.WriteBoolean(f, true);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteStartObject("dealer"u8);
        json.WriteStartObject("features"u8);
        foreach (var f in DealerFeatures) json.WriteBoolean(f, true);
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
        return w.ToFrame();
    }

    internal static readonly string[] BrokerFeatures =
        ["publisher_exclusion", "publisher_identification", "subscriber_blackwhite_listing", "pattern_based_subscription", "session_meta_api"];

    internal static readonly string[] DealerFeatures =
        ["progressive_call_results", "call_timeout", "call_canceling", "caller_identification", "pattern_based_registration", "shared_registration", "session_meta_api"];

    private async Task ReceiveLoopAsync(RouterSession session, CancellationToken cancellationToken)
    {
        var realm = session.Realm!;
        while (true)
        {
            var r = await session.Transport.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (r.IsClosed) return;
            if (r.Oversized)
            {
                if (!realm.OnOversized(session, r.Message.Span)) return;
                continue;
            }
            WampMessage m;
            try
            {
                m = WampMessageParser.Parse(r.Message);
            }
            catch (WampProtocolException e)
            {
                session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, e.Message));
                return;
            }
            switch (m.Type)
            {
                case WampMessageType.Goodbye:
                    // The reply to our own GOODBYE ends the session; a client's GOODBYE is answered first.
                    if (!session.GoodbyeSent) session.Send(RouterFrames.Goodbye(WampUris.GoodbyeAndOut));
                    return;
                case WampMessageType.Abort:
                    return;
                case WampMessageType.Hello:
                case WampMessageType.Authenticate:
                    session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, $"{m.Type} received in an established session"));
                    return;
                default:
                    if (!realm.Handle(session, m)) return;
                    break;
            }
        }
    }

    /// <summary>
    /// Says GOODBYE (<c>wamp.close.system_shutdown</c>) to every session; the returned task completes when every
    /// connection has closed. Sessions that do not answer are cut off after <see cref="WampRouterOptions.HandshakeTimeout"/>.
    /// </summary>
    public Task ShutdownAsync()
    {
        _shuttingDown = true;
        foreach (var session in _sessions.Values)
        {
            session.GoodbyeSent = true;
            session.Send(RouterFrames.Goodbye(WampUris.SystemShutdown, "the router is shutting down"));
        }
        _shutdown.CancelAfter(Options.HandshakeTimeout);
        if (Volatile.Read(ref _connections) == 0) _drained.TrySetResult();
        return _drained.Task;
    }
}
