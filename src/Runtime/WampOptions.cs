namespace WampContracts;

/// <summary>How a caller asks the dealer to cancel a call (WAMP <c>CANCEL.Options.mode</c>).</summary>
public enum WampCancelMode
{
    /// <summary>The dealer answers the caller at once and does not interrupt the callee.</summary>
    Skip,
    /// <summary>The dealer interrupts the callee and waits for its answer, which the caller gets.</summary>
    Kill,
    /// <summary>The dealer answers the caller at once and interrupts the callee.</summary>
    KillNoWait,
}

/// <summary>Settings of a <see cref="WampSession"/>.</summary>
public sealed class WampSessionOptions
{
    /// <summary>Bound on opening the transport and on the HELLO/WELCOME exchange. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The WebSocket that <see cref="WampSession.ConnectAsync"/> opens: keepalive (a dead router is dropped) and, for
    /// <c>wss://</c>, certificate validation, pinning and a client certificate. Default <see cref="WampWebSocketOptions.Default"/>.
    /// </summary>
    public WampWebSocketOptions WebSocket { get; init; } = new();

    /// <summary>
    /// The serializers <see cref="WampSession.ConnectAsync"/> offers, in order of preference: over WebSocket as
    /// subprotocols (the router picks one), over RawSocket (<c>tcp://</c>) one handshake at a time, the next one when
    /// the router refuses a serializer. Null or empty (the default): JSON only. With MessagePack or CBOR, <c>byte[]</c>
    /// and <c>ReadOnlyMemory&lt;byte&gt;</c> values travel as binary (see docs/wire-format.md).
    /// </summary>
    public IReadOnlyList<Serialization.WampSerializer>? Serializers { get; init; }

    /// <summary>
    /// A connection without TLS (<c>ws://</c>, <c>tcp://</c>) is read by a thread of its own that waits in the kernel
    /// for the next message: one wake-up per message where the thread pool takes two, the lowest latency. A process
    /// gives at most 64 connections a thread of their own (every thread costs each garbage collection a stack to
    /// scan); further ones, and TLS connections, are read by the thread pool, as are all with this off. Default on.
    /// </summary>
    public bool ReaderThread { get; init; } = true;

    /// <summary>Bound on control requests (REGISTER, SUBSCRIBE, their reverses, acknowledged PUBLISH) and on the GOODBYE handshake. Default 10 s.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The time limit of calls that set none themselves (no <see cref="WampTimeout"/> scope, no <c>[Timeout]</c>, no
    /// <see cref="WampCallOptions.Timeout"/>): so that no call waits forever. Null: no default. Default 30 s.
    /// </summary>
    public TimeSpan? DefaultCallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The mode of the CANCEL sent when a caller's token fires or a call times out. Default <see cref="WampCancelMode.KillNoWait"/>.</summary>
    public WampCancelMode CancelMode { get; init; } = WampCancelMode.KillNoWait;

    /// <summary>With <see cref="WampCancelMode.Kill"/>, how long to wait for the callee's answer before giving up locally. Default 5 s.</summary>
    public TimeSpan KillModeGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest message accepted from the router; a larger RESULT fails its call with <c>wamp.error.payload_size_exceeded</c>. Default 16 MiB.</summary>
    public int MaxMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Most bytes the session holds for the application at once: events waiting for their handlers and progressive
    /// results a stream's consumer has not read yet. Past it, events are dropped (and logged) and a stream whose
    /// consumer fell behind fails with <c>wamp.error.payload_size_exceeded</c> and is canceled. Default 16 MiB.
    /// </summary>
    public long MaxBufferedBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// When a procedure handler throws something that is not a <see cref="WampException"/>, send its type and message
    /// to the caller (never its stack trace, inner exceptions or data; file paths in the message are replaced by
    /// <c>[path]</c>). Off by default: the caller gets <c>wamp.error.runtime_error</c> and nothing more. Either way the
    /// callee logs the full exception (event 1007).
    /// </summary>
    public bool IncludeExceptionDetails { get; init; }

    /// <summary>
    /// How the session authenticates (ticket, WAMP-CRA, cryptosign, ...), at the first join and at every
    /// reconnection. Null (the default): it joins as <c>anonymous</c>. See docs/security.md.
    /// </summary>
    public WampAuthentication? Authentication { get; init; }

    /// <summary>The <c>agent</c> announced in HELLO.</summary>
    public string Agent { get; init; } = "WampContracts/" + typeof(WampSessionOptions).Assembly.GetName().Version?.ToString(3);

    /// <summary>Called with any exception a procedure or event handler throws that is not a <see cref="WampException"/>.</summary>
    public Action<Exception>? OnHandlerError { get; init; }

    /// <summary>
    /// How contract arguments and results are (de)serialized. Default: <see cref="WampJson.DefaultOptions"/> (camelCase,
    /// reflection-based where reflection is enabled). For trimmed or Native AOT apps, use the options of your own
    /// <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>, e.g. <c>MyJsonContext.Default.Options</c>.
    /// </summary>
    public System.Text.Json.JsonSerializerOptions JsonSerializerOptions { get; init; } = WampJson.DefaultOptions;

    /// <summary>
    /// Open the connection again when it is lost, and restore registrations and subscriptions (sessions opened with
    /// <see cref="WampSession.ConnectAsync"/> or a transport factory). Null (the default): a lost connection ends the session.
    /// </summary>
    public WampReconnectPolicy? Reconnect { get; init; }

    /// <summary>How generated callers retry calls that are safe to repeat. Default <see cref="WampRetryPolicy.Default"/>.</summary>
    public WampRetryPolicy RetryPolicy { get; init; } = new();

    /// <summary>The session's retry budget. Default: 10 tokens, 0.1 per success.</summary>
    public WampRetryBudget RetryBudget { get; init; } = new();

    /// <summary>Where generated callee stubs remember idempotent calls. Default: an <see cref="InMemoryIdempotencyStore"/>.</summary>
    public IIdempotencyStore IdempotencyStore { get; init; } = new InMemoryIdempotencyStore();

    /// <summary>
    /// How generated callee stubs register their procedures. Default: <see cref="WampRegisterOptions.Default"/> (invoke
    /// <c>single</c>). Replicas of one service share its procedures with <c>Invoke = WampInvokePolicy.RoundRobin</c>
    /// (give them a shared <see cref="IdempotencyStore"/>, such as WampContracts.Redis's, so a retry reaching another
    /// replica is deduplicated too).
    /// </summary>
    public WampRegisterOptions ContractRegisterOptions { get; init; } = WampRegisterOptions.Default;

    /// <summary>
    /// Also carry call metadata (idempotency key, time limit) in the payload, as keyword argument
    /// <c>x_wampcontracts</c>, for routers that drop custom CALL options (fox-wamp does). Both ends must be
    /// WampContracts, or read that key. Off by default.
    /// </summary>
    public bool MetadataInPayload { get; init; }

    /// <summary>
    /// Interceptors around every outgoing call attempt, first outermost (see <see cref="IWampCallInterceptor"/> and
    /// docs/policies.md). Default: none.
    /// </summary>
    public IReadOnlyList<IWampCallInterceptor> CallInterceptors { get; init; } = [];

    /// <summary>
    /// Interceptors around every invocation of this session's registered procedures, first outermost (see
    /// <see cref="IWampInvocationInterceptor"/> and docs/policies.md). Default: none.
    /// </summary>
    public IReadOnlyList<IWampInvocationInterceptor> InvocationInterceptors { get; init; } = [];

    /// <summary>The clock for every timer the session runs. Tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Where the session logs (category <c>WampContracts.Session</c>): joins, lost connections and reconnections,
    /// protocol violations, and exceptions of handlers. Default: nothing is logged.
    /// </summary>
    public Microsoft.Extensions.Logging.ILoggerFactory LoggerFactory { get; init; } = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
}

/// <summary>Options of one CALL.</summary>
public sealed class WampCallOptions
{
    public static readonly WampCallOptions Default = new();

    /// <summary>
    /// The call's time limit (after a <see cref="WampTimeout"/> scope, before the session's default), capped by the
    /// ambient <see cref="WampDeadline"/>. Enforced locally, and sent as <c>CALL.Options.timeout</c> so the dealer and
    /// the callee stop too.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The call's idempotency key, sent as the <c>x_idempotency_key</c> CALL option (see docs/policies.md).</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Ask the dealer to disclose this session to the callee (<c>disclose_me</c>).</summary>
    public bool DiscloseMe { get; init; }

    /// <summary>Overrides the session's <see cref="WampSessionOptions.CancelMode"/> for this call.</summary>
    public WampCancelMode? CancelMode { get; init; }

    /// <summary>
    /// Custom options sent as <c>x_</c>-prefixed CALL options (keys must start with <c>x_</c>), as raw JSON
    /// values. Routers that support it forward them into the INVOCATION details.
    /// </summary>
    public IReadOnlyDictionary<string, string>? CustomOptions { get; init; }
}

/// <summary>How the dealer matches a registration's URI (WAMP <c>match</c>).</summary>
public enum WampMatch
{
    Exact,
    Prefix,
    Wildcard,
}

/// <summary>How a shared registration picks a callee (WAMP <c>invoke</c>).</summary>
public enum WampInvokePolicy
{
    Single,
    RoundRobin,
    Random,
    First,
    Last,
}

/// <summary>Options of one REGISTER.</summary>
public sealed class WampRegisterOptions
{
    public static readonly WampRegisterOptions Default = new();

    public WampMatch Match { get; init; } = WampMatch.Exact;

    public WampInvokePolicy Invoke { get; init; } = WampInvokePolicy.Single;

    /// <summary>Ask the dealer to disclose every caller (<c>disclose_caller</c>).</summary>
    public bool DiscloseCaller { get; init; }

    /// <summary>
    /// The handler never blocks (it completes at once, or awaits asynchronous work): it is started on the session's
    /// reader, which saves a hop to the thread pool per invocation. Off by default, since a handler that blocks would
    /// hold up every other message of the session until it returns or first awaits.
    /// </summary>
    public bool RunsInline { get; init; }
}

/// <summary>Options of one SUBSCRIBE.</summary>
public sealed class WampSubscribeOptions
{
    public static readonly WampSubscribeOptions Default = new();

    public WampMatch Match { get; init; } = WampMatch.Exact;
}

/// <summary>Options of one PUBLISH.</summary>
public sealed class WampPublishOptions
{
    public static readonly WampPublishOptions Default = new();

    /// <summary>Wait for the broker's PUBLISHED (or ERROR). Off by default: a publish is fire-and-forget.</summary>
    public bool Acknowledge { get; init; }

    /// <summary>Leave the publisher out even when it is subscribed (default true).</summary>
    public bool ExcludeMe { get; init; } = true;

    /// <summary>Ask the broker to disclose the publisher to subscribers.</summary>
    public bool DiscloseMe { get; init; }

    /// <summary>Only these sessions receive the event.</summary>
    public IReadOnlyList<long>? Eligible { get; init; }

    /// <summary>These sessions do not receive the event.</summary>
    public IReadOnlyList<long>? Exclude { get; init; }
}

internal static class WampOptionNames
{
    public static string ToWire(this WampCancelMode mode) => mode switch
    {
        WampCancelMode.Skip => "skip",
        WampCancelMode.Kill => "kill",
        _ => "killnowait",
    };

    public static string ToWire(this WampMatch match) => match switch
    {
        WampMatch.Prefix => "prefix",
        WampMatch.Wildcard => "wildcard",
        _ => "exact",
    };

    public static string ToWire(this WampInvokePolicy invoke) => invoke switch
    {
        WampInvokePolicy.RoundRobin => "roundrobin",
        WampInvokePolicy.Random => "random",
        WampInvokePolicy.First => "first",
        WampInvokePolicy.Last => "last",
        _ => "single",
    };
}
