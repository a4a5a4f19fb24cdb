using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Router.Core;

/// <summary>
/// The transport-independent router: accepts sessions on any <see cref="IWampTransport"/>, runs the HELLO/WELCOME
/// handshake, and hands each established session's messages to its <see cref="Realm"/>.
/// </summary>
internal sealed partial class RouterCore(WampRouterOptions options)
{
    private readonly ConcurrentDictionary<string, Realm> _realms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<long, RouterSession> _sessions = new();
    // Configured realms by name (open ones with null settings); null when any realm is created on first use.
    private readonly Dictionary<string, WampRealmOptions?>? _configuredRealms = ConfiguredRealms(options);
    // The compiled authorization rules of realms with settings, checked here so a wrong rule fails at startup.
    private readonly Dictionary<string, RealmAuthorization> _authorization = CompileAuthorization(options);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;
    private volatile bool _shuttingDown;
    private long _lastId;

    /// <summary>The ABORT reason for a connection past <see cref="WampRouterOptions.MaxConnections"/>.</summary>
    public const string TooManyConnections = "wamp.error.too_many_connections";

    public WampRouterOptions Options { get; } = options;

    public ILogger Log { get; } = options.LoggerFactory.CreateLogger(RouterLog.Category);

    public int SessionCount => _sessions.Count;

    /// <summary>Realms that exist now (configured ones once used, and ones created on first use until their last session leaves).</summary>
    public int RealmCount => _realms.Count;

    /// <summary>Connections being served (joined or not yet).</summary>
    public int ConnectionCount => Volatile.Read(ref _connections);

    /// <summary>True when <see cref="WampRouterOptions.MaxConnections"/> connections are being served.</summary>
    public bool AtConnectionLimit => Volatile.Read(ref _connections) >= Options.MaxConnections;

    private static Dictionary<string, WampRealmOptions?>? ConfiguredRealms(WampRouterOptions options)
    {
        if (options.Realms is null && options.RealmSettings is null) return null;
        var realms = new Dictionary<string, WampRealmOptions?>(StringComparer.Ordinal);
        foreach (var name in options.Realms ?? []) realms[name] = null;
        foreach (var settings in options.RealmSettings ?? [])
        {
            if (!realms.TryAdd(settings.Name, settings))
                throw new ArgumentException($"Realm '{settings.Name}' is configured twice.", nameof(options));
            settings.ValidateAuthentication();
        }
        return realms;
    }

    /// <summary>The settings of a realm; null for an open realm.</summary>
    public WampRealmOptions? SettingsOf(string realm) => _configuredRealms?.GetValueOrDefault(realm);

    /// <summary>The authorization rules of a realm; null for an open realm.</summary>
    public RealmAuthorization? AuthorizationOf(string realm) => _authorization.GetValueOrDefault(realm);

    private static Dictionary<string, RealmAuthorization> CompileAuthorization(WampRouterOptions options)
    {
        var compiled = new Dictionary<string, RealmAuthorization>(StringComparer.Ordinal);
        foreach (var settings in options.RealmSettings ?? []) compiled[settings.Name] = RealmAuthorization.Compile(settings);
        return compiled;
    }

    /// <summary>A router-scope id (registrations, subscriptions): sequential from 1.</summary>
    public long NextId() => Interlocked.Increment(ref _lastId);

    /// <summary>A global-scope id (publications): random in [1, 2^53], as the protocol asks.</summary>
    public long NewPublicationId() => Random.Shared.NextInt64(1, WampMessageParser.MaxId + 1);

    /// <summary>Serves one connection until the session ends, the peer disconnects, or the router stops.</summary>
    public async Task ServeAsync(IWampTransport transport, CancellationToken cancellationToken)
    {
        // A connection read by its own thread comes back to it after every wait that completed elsewhere.
        var reader = ReaderThread.Current;
        var session = new RouterSession(transport, Options, Log);
        bool admitted = Interlocked.Increment(ref _connections) <= Options.MaxConnections;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
        session.WriterLoop = RunWriterAsync(session);
        try
        {
            if (!admitted)
            {
                Refuse(session, TooManyConnections, $"the router serves at most {Options.MaxConnections} connections; try again later");
            }
            else if (await HandshakeAsync(session, stop.Token).ConfigureAwait(false))
            {
                if (reader is not null) await reader.Return();
                // From here on each message is handled before the next is read, and what a session keeps is copied
                // (frames are written at once; the handshake's details, which a session keeps, came before).
                if (session.Transport is WebSocketConnection websocket) websocket.LendsMessages = true;
                await ReceiveLoopAsync(session, reader, stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.WebSockets.WebSocketException or ObjectDisposedException)
        {
            // The peer disconnected, its transport broke, or the router is stopping: only this session ends.
            Log.TransportEnded(session.Id, e.GetType().Name, e.Message);
        }
        catch (Exception e)
        {
            // Nothing a peer sends should reach this; if something does, the session ends visibly, never silently.
            Log.SessionFailed(e, session.Id);
            session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, "the router could not process a message of this session"));
        }
        finally
        {
            // Out of the router's count first, so whoever sees the realm's on_leave sees the count without it.
            if (session.Id != 0) _sessions.TryRemove(session.Id, out _);
            if (session.Realm is { } realm)
            {
                realm.Leave(session);
                Log.SessionLeft(session.Id, realm.Name);
            }
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
        // A receive the handshake left running is awaited first (a transport takes one receive at a time).
        var receive = session.PendingReceive;
        try
        {
            await session.WriterLoop.WaitAsync(timeout.Token).ConfigureAwait(false);
            await transport.CloseAsync(timeout.Token).ConfigureAwait(false);
            // Aborting before the peer has read our close could drop what we just sent: let it close in turn.
            receive ??= transport.ReceiveAsync(timeout.Token).AsTask();
            while (!(await receive.WaitAsync(timeout.Token).ConfigureAwait(false)).IsClosed)
                receive = transport.ReceiveAsync(timeout.Token).AsTask();
        }
        catch (Exception)
        {
            // The peer is gone or too slow to close: tear the connection down.
        }
        transport.Abort();
        // A receive still running fails with the abort; nobody waits for it any more.
        receive?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        await transport.DisposeAsync().ConfigureAwait(false);
    }

    private async Task RunWriterAsync(RouterSession session)
    {
        try
        {
            await session.Sender.RunAsync(session.Transport, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The connection broke while sending: make the reader notice and end the session.
            Log.SendFailed(session.Id, e.GetType().Name, e.Message);
            session.Transport.Abort();
        }
    }

    /// <summary>Ends a session that has not joined (or is about to be dropped) with ABORT.</summary>
    private void Refuse(RouterSession session, string reason, string message)
    {
        Log.SessionRefused(reason, message);
        session.Send(RouterFrames.Abort(reason, message));
    }

    private async Task<bool> HandshakeAsync(RouterSession session, CancellationToken cancellationToken)
    {
        if (await ReceiveHandshakeMessageAsync(session, Options.HandshakeTimeout, "HELLO", cancellationToken).ConfigureAwait(false) is not { } hello)
            return false;
        if (hello.Type != WampMessageType.Hello)
        {
            Refuse(session, WampUris.ProtocolViolation, $"the first message must be HELLO, not {hello.Type}");
            return false;
        }
        string? realmName = hello.Uri;
        if (realmName is null || !WampUris.IsValidLoose(realmName))
        {
            Refuse(session, WampUris.InvalidUri, $"'{RouterFrames.Quote(realmName)}' is not a valid realm URI");
            return false;
        }
        if (!AnnouncesARole(hello.Dict))
        {
            Refuse(session, WampUris.ProtocolViolation, "HELLO.Details.roles must be a dictionary naming at least one role (caller, callee, publisher, subscriber)");
            return false;
        }
        if (_configuredRealms is not null && !_configuredRealms.ContainsKey(realmName))
        {
            Refuse(session, WampUris.NoSuchRealm, $"realm '{RouterFrames.Quote(realmName)}' does not exist");
            return false;
        }

        var roles = hello.Dict.GetDict("roles"u8);
        var callee = roles.GetDict("callee"u8).GetDict("features"u8);
        session.CalleeCallCanceling = callee.GetBool("call_canceling"u8) || callee.GetBool("call_cancelling"u8);
        session.CalleeCallTimeout = callee.GetBool("call_timeout"u8);
        // A callee that cannot be canceled is treated as not supporting progressive results (the protocol's rule).
        session.CalleeProgressiveResults = callee.GetBool("progressive_call_results"u8);

        do session.Id = NewSessionId();
        while (!_sessions.TryAdd(session.Id, session));
        session.AuthId = WampAnonymousAuthenticator.AnonymousAuthId(session.Id);
        // A realm with settings authenticates; an open realm (and the development mode) welcomes everyone as anonymous.
        if (SettingsOf(realmName) is { } settings && !await AuthenticateAsync(session, hello, realmName, settings, cancellationToken).ConfigureAwait(false))
            return false;
        if (_shuttingDown)
        {
            Refuse(session, WampUris.SystemShutdown, "the router is shutting down");
            return false;
        }
        var realm = JoinRealm(realmName, session);
        if (realm is null)
        {
            Refuse(session, WampUris.NoSuchRealm, $"realm '{RouterFrames.Quote(realmName)}' does not exist, and the router holds its limit of {Options.MaxRealms} realms");
            return false;
        }
        session.Send(Welcome(session, realmName));
        Log.SessionJoined(session.Id, realmName);
        return true;
    }

    /// <summary>
    /// The next message of a handshake (HELLO, AUTHENTICATE), within <paramref name="bound"/>; null when the session
    /// ended, refused with ABORT (a timeout, a rejected, oversized or malformed message) or closed by the peer. The wait
    /// is bounded by a timer, not by cancelling the receive: cancelling a WebSocket receive tears the socket down, and
    /// the ABORT that explains the timeout could no longer reach the peer.
    /// </summary>
    private async Task<WampMessage?> ReceiveHandshakeMessageAsync(RouterSession session, TimeSpan bound, string expected, CancellationToken cancellationToken)
    {
        WampReceiveResult r;
        if (session.Transport is WebSocketConnection { ReadsOnOwnThread: true })
        {
            // A connection read by its own thread waits in the kernel, so no timer could interrupt the wait; its receive
            // can be canceled instead without losing its place in the stream (nothing is consumed until a message is whole).
            using var timer = new CancellationTokenSource(bound > TimeSpan.Zero ? bound : TimeSpan.FromTicks(1), Options.TimeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                r = await session.Transport.ReceiveAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                Refuse(session, WampUris.ProtocolViolation, $"no {expected} within {Options.HandshakeTimeout.TotalMilliseconds:0} ms");
                return null;
            }
            return ParseHandshakeMessage(session, r, expected);
        }
        var receive = session.Transport.ReceiveAsync(cancellationToken).AsTask();
        using (var timer = new CancellationTokenSource())
        {
            var expired = bound > TimeSpan.Zero ? Task.Delay(bound, Options.TimeProvider, timer.Token) : Task.CompletedTask;
            if (await Task.WhenAny(receive, expired).ConfigureAwait(false) != receive)
            {
                session.PendingReceive = receive;
                Refuse(session, WampUris.ProtocolViolation, $"no {expected} within {Options.HandshakeTimeout.TotalMilliseconds:0} ms");
                return null;
            }
            timer.Cancel();
        }
        return ParseHandshakeMessage(session, await receive.ConfigureAwait(false), expected);
    }

    private WampMessage? ParseHandshakeMessage(RouterSession session, WampReceiveResult r, string expected)
    {
        if (r.IsClosed) return null;
        if (r.Rejection is { } rejection)
        {
            Refuse(session, WampUris.ProtocolViolation, rejection);
            return null;
        }
        if (r.Oversized)
        {
            Refuse(session, WampUris.PayloadSizeExceeded, $"{expected} larger than {Options.MaxMessageSize} bytes");
            return null;
        }
        try
        {
            return WampMessageParser.Parse(r.Message);
        }
        catch (WampProtocolException e)
        {
            Refuse(session, WampUris.ProtocolViolation, e.Message);
            return null;
        }
    }

    private static bool AnnouncesARole(WampDict details)
    {
        if (!details.TryFind("roles"u8, out var reader) || reader.TokenType != System.Text.Json.JsonTokenType.StartObject) return false;
        var roles = details.GetDict("roles"u8);
        return IsDict(roles, "caller"u8) || IsDict(roles, "callee"u8) || IsDict(roles, "publisher"u8) || IsDict(roles, "subscriber"u8);

        static bool IsDict(WampDict roles, ReadOnlySpan<byte> role) =>
            roles.TryFind(role, out var r) && r.TokenType == System.Text.Json.JsonTokenType.StartObject;
    }

    /// <summary>
    /// Joins the session to its realm, creating the realm on first use (within <see cref="WampRouterOptions.MaxRealms"/>
    /// when realms are not configured). Null when no new realm may be created.
    /// </summary>
    private readonly Lock _realmCreation = new();

    private Realm? JoinRealm(string name, RouterSession session)
    {
        while (true)
        {
            if (!_realms.TryGetValue(name, out var realm))
            {
                // Counting and adding under one lock, so concurrent HELLOs cannot pass MaxRealms together.
                lock (_realmCreation)
                {
                    if (!_realms.TryGetValue(name, out realm))
                    {
                        if (_configuredRealms is null && _realms.Count >= Options.MaxRealms) return null;
                        realm = new Realm(name, this);
                        _realms[name] = realm;
                    }
                }
            }
            // A realm whose last session just left is gone: take a new one.
            if (realm.TryJoin(session)) return realm;
        }
    }

    /// <summary>Forgets a realm whose last session left (called under the realm's lock).</summary>
    public void RemoveRealm(Realm realm) => _realms.TryRemove(new KeyValuePair<string, Realm>(realm.Name, realm));

    private WampFrame Welcome(RouterSession session, string realm)
    {
        var w = WampFrameWriter.Start(WampMessageType.Welcome).Id(session.Id);
        var json = w.Json;
        json.WriteStartObject();
        json.WriteString("agent"u8, Options.Agent);
        json.WriteString("realm"u8, realm);
        json.WriteString("authid"u8, session.AuthId);
        json.WriteString("authrole"u8, session.AuthRole);
        json.WriteString("authmethod"u8, session.AuthMethod);
        json.WriteString("authprovider"u8, session.AuthProvider);
        if (session.AuthExtra is { } authExtra)
        {
            json.WritePropertyName("authextra"u8);
            authExtra.WriteTo(json);
        }
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

    /// <remarks>
    /// What the messages of one read cause (INVOCATIONs, RESULTs, EVENTs to other sessions) waits in the loop's
    /// <see cref="SendBatch"/> and leaves in one write per peer when the loop next waits for bytes.
    /// </remarks>
    private async Task ReceiveLoopAsync(RouterSession session, ReaderThread? reader, CancellationToken cancellationToken)
    {
        var realm = session.Realm!;
        try
        {
            await ReceiveLoopAsync(session, realm, reader, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            SendBatch.End();
        }
    }

    private async Task ReceiveLoopAsync(RouterSession session, Realm realm, ReaderThread? reader, CancellationToken cancellationToken)
    {
        WampReceiveResult r = default;
        WampMessage m = default;
        while (true)
        {
            // IMPORTANT: the last message is let go before the wait: the loop's locals live on in its state machine, and an
            // idle session must not hold the last message it got (up to MaxMessageSize).
            r = default;
            m = default;
            var receive = session.Transport.ReceiveAsync(cancellationToken);
            if (!receive.IsCompleted) SendBatch.End();
            r = await receive.ConfigureAwait(false);
            SendBatch.Begin(SendBatch.OfThisThread());
            if (r.IsClosed) return;
            if (r.Rejection is { } rejection)
            {
                realm.Violation(session, rejection);
                return;
            }
            if (r.Oversized)
            {
                if (!realm.OnUnreadable(session, r.Message.Span, WampUris.PayloadSizeExceeded, $"message larger than the router's limit of {Options.MaxMessageSize} bytes")) return;
                continue;
            }
            try
            {
                m = WampMessageParser.Parse(r.Message);
            }
            catch (WampProtocolException e) when (e.ExceedsLimit)
            {
                // Well-formed but past a limit: the request it carries is refused, the session goes on.
                if (!realm.OnUnreadable(session, r.Message.Span, WampUris.InvalidArgument, e.Message)) return;
                continue;
            }
            catch (WampProtocolException e)
            {
                realm.Violation(session, e.Message);
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
                    realm.Violation(session, $"{m.Type} received in an established session");
                    return;
                default:
                    // A role with a dynamic authorizer is asked first, outside the realm's lock.
                    var ask = realm.AskAuthorizerAsync(session, m, cancellationToken);
                    Realm.AuthorizerAnswer? answer;
                    if (ask.IsCompleted)
                    {
                        answer = ask.Result;
                    }
                    else
                    {
                        SendBatch.End();
                        answer = await ask.ConfigureAwait(false);
                        if (reader is not null) await reader.Return();
                        SendBatch.Begin(SendBatch.OfThisThread());
                    }
                    if (!realm.Handle(session, m, answer)) return;
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
            // A session still authenticating has not joined: it cannot be said GOODBYE, and it is refused at WELCOME.
            if (session.Realm is null) continue;
            session.GoodbyeSent = true;
            session.Send(RouterFrames.Goodbye(WampUris.SystemShutdown, "the router is shutting down"));
        }
        _shutdown.CancelAfter(Options.HandshakeTimeout);
        if (Volatile.Read(ref _connections) == 0) _drained.TrySetResult();
        return _drained.Task;
    }
}
