using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

/// <summary>
/// One WAMP session over one transport: caller, callee, publisher and subscriber at once.
/// Split by concern: lifecycle here, <c>.Send</c> (writer loop), <c>.Receive</c> (reader loop and dispatch),
/// <c>.Caller</c>, <c>.Callee</c>, <c>.PubSub</c>.
/// </summary>
public sealed partial class WampSession : IAsyncDisposable
{
    private readonly WampSessionOptions _options;
    private readonly ILogger _log;
    private readonly CallTimers _timers;
    private readonly CancellationTokenSource _closed = new();   // the whole session is over
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Connection _connection;
    private Func<CancellationToken, Task<IWampTransport>>? _reconnectTransport;
    private long _lastRequestId;
    private int _terminated;
    private volatile bool _goodbyeSent;
    private TaskCompletionSource? _goodbyeReply;

    private WampSession(IWampTransport transport, string realm, WampSessionOptions options)
    {
        _connection = new Connection(transport, this);
        _options = options;
        _log = options.LoggerFactory.CreateLogger(SessionLog.Category);
        _timers = new CallTimers(options.TimeProvider) { OnExpiryFailed = e => _log.TimerFailed(e, realm) };
        RetryThrottle = new RetryThrottle(options.RetryBudget);
        Realm = realm;
        _events = Channel.CreateUnbounded<EventDispatch>(new UnboundedChannelOptions { SingleReader = true });
    }

    /// <summary>The session id the router assigned in WELCOME (a new one after each reconnection).</summary>
    public long SessionId => _connection.SessionId;

    /// <summary>The realm this session joined.</summary>
    public string Realm { get; }

    /// <summary>The WELCOME details (roles, features, authid, authrole, ...).</summary>
    public WampDict WelcomeDetails => _connection.WelcomeDetails;

    /// <summary>The identity the router authenticated this session as (<c>WELCOME.Details.authid</c>).</summary>
    public string? AuthId => WelcomeDetails.GetString("authid"u8);

    /// <summary>The role the router granted (<c>WELCOME.Details.authrole</c>).</summary>
    public string? AuthRole => WelcomeDetails.GetString("authrole"u8);

    /// <summary>The authentication method the router ran (<c>WELCOME.Details.authmethod</c>), e.g. <c>ticket</c>.</summary>
    public string? AuthMethod => WelcomeDetails.GetString("authmethod"u8);

    /// <summary>Who vouched for the identity (<c>WELCOME.Details.authprovider</c>), e.g. <c>static</c> or <c>dynamic</c>.</summary>
    public string? AuthProvider => WelcomeDetails.GetString("authprovider"u8);

    /// <summary>True while the session is joined; false while it reconnects and once it has ended.</summary>
    public bool IsConnected => Volatile.Read(ref _terminated) == 0 && !_connection.IsLost;

    /// <summary>Completes when the session has ended, for whatever reason; see <see cref="CloseReason"/>.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Why the session ended (a GOODBYE or ABORT reason, or <c>wamp.close.transport_lost</c>); null while open.</summary>
    public string? CloseReason { get; private set; }

    internal WampSessionOptions Options => _options;

    internal ILogger Log => _log;

    internal RetryThrottle RetryThrottle { get; }

    /// <summary>
    /// The one place a URL becomes a transport: RawSocket for <c>tcp://host:port</c>, else a WebSocket, each offering
    /// the serializers of <paramref name="options"/> in order.
    /// </summary>
    internal static async Task<IWampTransport> OpenTransportAsync(Uri url, string realm, WampSessionOptions options, CancellationToken cancellationToken)
    {
        options.LoggerFactory.CreateLogger(SessionLog.Category).Connecting(url, realm);
        if (url.Scheme == "tcp")
        {
            if (url.Port < 0) throw new ArgumentException($"{url} names no port: use tcp://host:port.", nameof(url));
            if (options.WebSocket.HasTlsSettings)
                throw new ArgumentException($"{url} is a RawSocket connection without TLS: its WebSocket TLS settings (pins, client certificate) cannot apply; use wss:// for them.", nameof(url));
            return await RawSocketTransport.ConnectAsync(url.Host, url.Port, options.ConnectTimeout, options.MaxMessageSize, options.Serializers,
                options.ReaderThread, cancellationToken).ConfigureAwait(false);
        }
        return await WebSocketHandshake.ConnectAsync(url, options.ConnectTimeout, options.MaxMessageSize, options.WebSocket, options.Serializers,
            options.ReaderThread, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Opens a WebSocket to <paramref name="url"/> (subprotocol <c>wamp.2.json</c>, or those of
    /// <see cref="WampSessionOptions.Serializers"/>; <c>wss://</c> for TLS, see <see cref="WampSessionOptions.WebSocket"/>),
    /// or a RawSocket connection for a <c>tcp://host:port</c> URL, and joins <paramref name="realm"/>.
    /// </summary>
    /// <exception cref="WampConnectionException">The connection failed or timed out (a refused TLS certificate is named, with why), or the router refused the session (ABORT; see <see cref="WampConnectionException.Reason"/>).</exception>
    public static async Task<WampSession> ConnectAsync(Uri url, string realm, WampSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new WampSessionOptions();
        var connectOptions = options;
        ArgumentNullException.ThrowIfNull(url);
        return await JoinAsync(ct => OpenTransportAsync(url, realm, connectOptions, ct),
            realm, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Joins <paramref name="realm"/> over a transport that <paramref name="connect"/> opens. With
    /// <see cref="WampSessionOptions.Reconnect"/> set, a lost connection is opened again the same way, and the session
    /// re-registers its procedures and re-subscribes its topics.
    /// </summary>
    public static async Task<WampSession> JoinAsync(Func<CancellationToken, Task<IWampTransport>> connect, string realm, WampSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        options?.Authentication?.Validate();
        var transport = await connect(cancellationToken).ConfigureAwait(false);
        var session = await JoinAsync(transport, realm, options, cancellationToken).ConfigureAwait(false);
        session._reconnectTransport = connect;
        return session;
    }

    /// <summary>Joins <paramref name="realm"/> over an already open transport (in-memory, or one of your own).</summary>
    /// <exception cref="WampConnectionException">The router refused the session, broke the protocol, or did not answer in time.</exception>
    public static async Task<WampSession> JoinAsync(IWampTransport transport, string realm, WampSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (!WampUris.IsValidLoose(realm))
            throw new ArgumentException($"'{realm}' is not a valid realm URI.", nameof(realm));
        options ??= new WampSessionOptions();
        options.Authentication?.Validate();
        var session = new WampSession(transport, realm, options);
        try
        {
            await session.HandshakeAsync(session._connection, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            transport.Abort();
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        session.StartLoops(session._connection);
        session._eventLoop = Task.Run(session.EventLoopAsync, CancellationToken.None);
        session._log.Joined(realm, session.SessionId);
        return session;
    }

    private async Task HandshakeAsync(Connection connection, CancellationToken cancellationToken)
    {
        var transport = connection.Transport;
        using var timeout = new CancellationTokenSource(_options.ConnectTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            // Credentials are asked for at every join, so a reconnection presents fresh ones.
            var credentials = await PrepareCredentialsAsync(linked.Token).ConfigureAwait(false);
            var hello = WampFrameWriter.Start(WampMessageType.Hello).String(Realm);
            WriteHelloDetails(hello.Json, credentials);
            var frame = hello.ToFrame();
            await transport.SendAsync(frame.Memory, linked.Token).ConfigureAwait(false);
            frame.Release();
            string? method = null; // the authentication method the router chose, once it sent a CHALLENGE
            int challenges = 0;
            while (true)
            {
                var r = await transport.ReceiveAsync(linked.Token).ConfigureAwait(false);
                if (r.IsClosed)
                    throw new WampConnectionException(WampConnectionException.TransportLost, $"The router closed the connection before welcoming the session to realm '{Realm}'.");
                if (r.Oversized)
                    throw new WampConnectionException(WampUris.ProtocolViolation, "The router's answer to HELLO was larger than MaxMessageSize.");
                WampMessage m;
                try
                {
                    m = WampMessageParser.Parse(r.Message);
                }
                catch (WampProtocolException e)
                {
                    throw new WampConnectionException(WampUris.ProtocolViolation, $"The router's answer to HELLO is malformed: {e.Message}");
                }
                switch (m.Type)
                {
                    case WampMessageType.Welcome:
                        if (m.Id1 == 0) throw new WampConnectionException(WampUris.ProtocolViolation, "WELCOME carried session id 0.");
                        connection.Welcome(m.Id1, m.Dict);
                        return;
                    case WampMessageType.Abort:
                        string text = m.Dict.GetString("message"u8) ?? (m.Payload.HasArguments ? m.Payload.ToString() : "");
                        string refusal = $"{m.Uri}{(text.Length > 0 ? " (" + text + ")" : "")}";
                        // After AUTHENTICATE, any ABORT is the router's verdict on the credentials.
                        if (method is not null || WampUris.IsAuthenticationFailure(m.Uri))
                            throw new WampAuthenticationException(m.Uri ?? "", method,
                                $"The router refused to authenticate the session to realm '{Realm}'{(method is null ? "" : $" by '{method}'")}: {refusal}");
                        throw new WampConnectionException(m.Uri ?? "", $"The router refused the session to realm '{Realm}': {refusal}");
                    case WampMessageType.Challenge:
                        method = m.Uri ?? "";
                        // WAMP allows a second round (two-factor); more than that is a router going in circles.
                        if (++challenges > MaxChallenges)
                            throw await RefuseChallengeAsync(transport, WampUris.ProtocolViolation, method, $"The router sent more than {MaxChallenges} CHALLENGEs.", linked.Token).ConfigureAwait(false);
                        var credential = credentials.FirstOrDefault(c => c.Credential.AuthMethod == method);
                        if (credential is null)
                        {
                            string offered = string.Join(", ", credentials.Select(c => c.Credential.AuthMethod));
                            throw await RefuseChallengeAsync(transport, WampAuthenticationException.CannotAuthenticate, method,
                                $"The router asks for '{method}' authentication, which this session was not configured for (it offered {offered}).", linked.Token).ConfigureAwait(false);
                        }
                        string signature;
                        try
                        {
                            signature = await WithinAsync(credential.RespondAsync(new WampChallenge(method, m.Dict), linked.Token), linked.Token).ConfigureAwait(false);
                        }
                        catch (WampAuthenticationException e)
                        {
                            throw await RefuseChallengeAsync(transport, e.Reason, method, e.Message, linked.Token).ConfigureAwait(false);
                        }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            throw await RefuseChallengeAsync(transport, WampAuthenticationException.CannotAuthenticate, method,
                                $"Answering the router's '{method}' CHALLENGE failed: {e.Message}", linked.Token, e,
                                wireMessage: $"the client could not answer the '{method}' challenge").ConfigureAwait(false);
                        }
                        var authenticate = WampFrameWriter.Start(WampMessageType.Authenticate).String(signature).EmptyDict().ToFrame();
                        await transport.SendAsync(authenticate.Memory, linked.Token).ConfigureAwait(false);
                        authenticate.Release();
                        break;
                    default:
                        throw new WampConnectionException(WampUris.ProtocolViolation, $"The router answered HELLO with {m.Type}.");
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new WampConnectionException(WampConnectionException.TransportLost,
                $"The router did not welcome the session to realm '{Realm}' within {_options.ConnectTimeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception e) when (e is IOException or System.Net.WebSockets.WebSocketException)
        {
            throw new WampConnectionException(WampConnectionException.TransportLost, $"The connection failed while joining realm '{Realm}': {e.Message}", e);
        }
    }

    /// <summary>Rounds of CHALLENGE a join answers (WAMP allows two, for two-factor methods).</summary>
    private const int MaxChallenges = 2;

    /// <summary>The configured credentials made ready for one handshake (none: anonymous).</summary>
    private async Task<WampCredential.Responder[]> PrepareCredentialsAsync(CancellationToken cancellationToken)
    {
        var methods = _options.Authentication?.Methods;
        if (methods is null) return [];
        var prepared = new WampCredential.Responder[methods.Count];
        for (int i = 0; i < prepared.Length; i++)
        {
            try
            {
                prepared[i] = await WithinAsync(methods[i].PrepareAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                throw new WampAuthenticationException(WampAuthenticationException.CannotAuthenticate, methods[i].AuthMethod,
                    $"Getting the '{methods[i].AuthMethod}' credential failed: {e.Message}", e);
            }
        }
        return prepared;
    }

    /// <summary>
    /// Waits for a credential callback until <paramref name="cancellationToken"/> fires; one that ignores the token is
    /// left behind, its late failure observed (never an unobserved exception).
    /// </summary>
    private static async Task<T> WithinAsync<T>(ValueTask<T> pending, CancellationToken cancellationToken)
    {
        var task = pending.AsTask();
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!task.IsCompleted)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>Tells the router the session cannot authenticate (ABORT); returns the exception that fails the join.</summary>
    // wireMessage: what the router is told (never local details such as a token service's error); default: message.
    private static async Task<WampAuthenticationException> RefuseChallengeAsync(IWampTransport transport, string reason, string method, string message, CancellationToken cancellationToken, Exception? error = null, string? wireMessage = null)
    {
        var w = WampFrameWriter.Start(WampMessageType.Abort);
        w.Json.WriteStartObject();
        w.Json.WriteString("message"u8, wireMessage ?? message);
        w.Json.WriteEndObject();
        var abort = w.String(reason).ToFrame();
        try
        {
            await transport.SendAsync(abort.Memory, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The join fails either way; the ABORT only tells the router why.
        }
        abort.Release();
        return new WampAuthenticationException(reason, method, message, error);
    }

    private void WriteHelloDetails(System.Text.Json.Utf8JsonWriter w, WampCredential.Responder[] credentials)
    {
        // Announce exactly the advanced features this runtime implements (see docs/wire-format.md).
        w.WriteStartObject();
        w.WriteString("agent"u8, _options.Agent);
        w.WriteStartObject("roles"u8);
        WriteRole(w, "caller"u8, ["progressive_call_results", "call_canceling", "call_timeout", "caller_identification"]);
        WriteRole(w, "callee"u8, ["progressive_call_results", "call_canceling", "call_timeout", "caller_identification", "pattern_based_registration", "shared_registration", "registration_revocation"]);
        WriteRole(w, "publisher"u8, ["publisher_exclusion", "publisher_identification", "subscriber_blackwhite_listing"]);
        WriteRole(w, "subscriber"u8, ["pattern_based_subscription", "publisher_identification", "subscription_revocation"]);
        w.WriteEndObject();
        w.WriteStartArray("authmethods"u8);
        if (credentials.Length == 0) w.WriteStringValue("anonymous"u8);
        foreach (var c in credentials) w.WriteStringValue(c.Credential.AuthMethod);
        w.WriteEndArray();
        var auth = _options.Authentication;
        if (auth is not null)
        {
            if (auth.AuthId is not null) w.WriteString("authid"u8, auth.AuthId);
            if (auth.AuthRole is not null) w.WriteString("authrole"u8, auth.AuthRole);
            var extra = (System.Text.Json.Nodes.JsonObject?)auth.AuthExtra?.DeepClone() ?? [];
            foreach (var c in credentials) c.AddAuthExtra(extra);
            if (extra.Count > 0)
            {
                w.WritePropertyName("authextra"u8);
                extra.WriteTo(w);
            }
        }
        w.WriteEndObject();

        static void WriteRole(System.Text.Json.Utf8JsonWriter w, ReadOnlySpan<byte> role, string[] features)
        {
            w.WriteStartObject(role);
            w.WriteStartObject("features"u8);
            foreach (var f in features) w.WriteBoolean(f, true);
            w.WriteEndObject();
            w.WriteEndObject();
        }
    }

    /// <summary>True when the router announced <paramref name="feature"/> for <paramref name="role"/> (<c>dealer</c> or <c>broker</c>) in WELCOME.</summary>
    public bool RouterSupports(string role, string feature)
    {
        return WelcomeDetails.GetDict("roles"u8).GetDict(System.Text.Encoding.UTF8.GetBytes(role)).GetDict("features"u8)
            .GetBool(System.Text.Encoding.UTF8.GetBytes(feature));
    }

    private long _bufferedBytes;

    /// <summary>
    /// Counts <paramref name="size"/> bytes as held for the application (events not yet handled, progressive results
    /// not yet read); false, counting nothing, when that would pass <see cref="WampSessionOptions.MaxBufferedBytes"/>.
    /// </summary>
    internal bool TryBuffer(int size)
    {
        if (Interlocked.Add(ref _bufferedBytes, size) <= _options.MaxBufferedBytes) return true;
        Interlocked.Add(ref _bufferedBytes, -size);
        return false;
    }

    internal void Unbuffer(int size) => Interlocked.Add(ref _bufferedBytes, -size);

    private long NextRequestId()
    {
        // Sequential per session, starting at 1 (what the current spec requires and older routers accept).
        long id = Interlocked.Increment(ref _lastRequestId);
        if (id > WampMessageParser.MaxId)
        {
            Interlocked.CompareExchange(ref _lastRequestId, 0, id);
            id = Interlocked.Increment(ref _lastRequestId);
        }
        return id;
    }

    /// <summary>
    /// Leaves the realm with the GOODBYE handshake (bounded by <see cref="WampSessionOptions.OperationTimeout"/>),
    /// then closes the transport. Calls still pending fail with <see cref="WampConnectionException"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (IsConnected)
        {
            var reply = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _goodbyeReply, reply);
            _goodbyeSent = true;
            var goodbye = WampFrameWriter.Start(WampMessageType.Goodbye).EmptyDict().String(WampUris.CloseRealm).ToFrame();
            if (TryEnqueue(goodbye))
            {
                try
                {
                    await reply.Task.WaitAsync(_options.OperationTimeout, _options.TimeProvider).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    // The router did not answer GOODBYE in time: close anyway.
                }
            }
        }
        Terminate(WampUris.CloseRealm, "The session was closed.", null, closeGracefully: true);
        var connection = _connection;
        await Task.WhenAll(connection.ReceiveLoop, connection.WriteLoop, _eventLoop).WaitAsync(_options.OperationTimeout, _options.TimeProvider)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await connection.Transport.DisposeAsync().ConfigureAwait(false);
        _timers.Dispose();
    }

    /// <summary>
    /// Ends the session once and for all: fails every pending request with <see cref="WampConnectionException"/>,
    /// cancels running invocations, stops the loops and closes (or aborts) the transport.
    /// </summary>
    private void Terminate(string reason, string message, Exception? error, bool closeGracefully = false)
    {
        if (Interlocked.Exchange(ref _terminated, 1) != 0) return;
        CloseReason = reason;
        _log.Closed(Realm, reason);
        Disconnect(_connection, new WampConnectionException(reason, message, error), closeGracefully);
        _events.Writer.TryComplete();
        _goodbyeReply?.TrySetResult();
        _closed.Cancel();
        // Waiters wake and see the session ended; the signal itself never faults, so no abandoned wait leaves an
        // unobserved exception behind.
        _reconnected.TrySetResult();
        _completion.TrySetResult();
    }

    /// <summary>The session is reconnecting (or has ended): a request cannot go out now.</summary>
    private WampConnectionException NotConnected() =>
        Volatile.Read(ref _terminated) != 0 ? Closed() : new(WampConnectionException.TransportLost, "The session is reconnecting to the router.");

    private WampConnectionException Closed() =>
        new(CloseReason ?? WampConnectionException.TransportLost, $"The session is closed ({CloseReason ?? "not connected"}).");
}
