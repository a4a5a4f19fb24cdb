namespace WampContracts.Hosting;

/// <summary>
/// The hosted session's settings, bound from the configuration section <c>Wamp</c> (see docs/hosting.md) and
/// checked when the host starts. Binding fills a new instance each time: no shared default is ever changed.
/// </summary>
public sealed class WampClientOptions
{
    /// <summary>The configuration section read by <c>AddWamp()</c>: <c>Wamp</c>.</summary>
    public const string SectionName = "Wamp";

    /// <summary>The router's WebSocket address, <c>ws://</c> or <c>wss://</c>, e.g. <c>ws://127.0.0.1:8080/ws</c>. Required.</summary>
    public Uri? RouterUrl { get; set; }

    /// <summary>The realm to join, e.g. <c>realm1</c>. Required.</summary>
    public string? Realm { get; set; }

    /// <summary>Bound on opening the WebSocket and on the HELLO/WELCOME exchange, per attempt. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on REGISTER, SUBSCRIBE, their reverses, GOODBYE, and on a publish waiting for the session to join. Default 10 s.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The time limit of calls that set none themselves, which also bounds how long a call made before the session
    /// joined waits for it. Null: no default limit. Default 30 s.
    /// </summary>
    public TimeSpan? DefaultCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest message accepted from the router. Default 16 MiB.</summary>
    public int MaxMessageSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>Send the type and message of a handler's unexpected exception to the caller. Default false.</summary>
    public bool IncludeExceptionDetails { get; set; }

    /// <summary>Also carry call metadata in the payload, for routers that drop custom CALL options. Default false.</summary>
    public bool MetadataInPayload { get; set; }

    /// <summary>How calls that are safe to repeat are retried.</summary>
    public WampRetryOptions Retry { get; set; } = new();

    /// <summary>How the session joins, and joins again after a lost connection.</summary>
    public WampReconnectOptions Reconnect { get; set; } = new();

    internal WampSessionOptions ToSessionOptions(WampSessionSetup setup, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory, TimeProvider time,
        IReadOnlyList<IWampCallInterceptor>? callInterceptors = null, IReadOnlyList<IWampInvocationInterceptor>? invocationInterceptors = null)
    {
        var defaults = new WampSessionOptions();
        return new WampSessionOptions
        {
            ConnectTimeout = ConnectTimeout,
            OperationTimeout = OperationTimeout,
            DefaultCallTimeout = DefaultCallTimeout,
            MaxMessageSize = MaxMessageSize,
            IncludeExceptionDetails = IncludeExceptionDetails,
            MetadataInPayload = MetadataInPayload,
            RetryPolicy = Retry.ToPolicy(),
            Reconnect = Reconnect.ToPolicy(),
            Authentication = setup.Authentication,
            WebSocket = setup.WebSocket ?? defaults.WebSocket,
            JsonSerializerOptions = setup.JsonSerializerOptions ?? defaults.JsonSerializerOptions,
            IdempotencyStore = setup.IdempotencyStore ?? defaults.IdempotencyStore,
            Serializers = setup.Serializers ?? defaults.Serializers,
            ContractRegisterOptions = setup.ContractRegisterOptions ?? defaults.ContractRegisterOptions,
            LoggerFactory = loggerFactory,
            TimeProvider = time,
            CallInterceptors = callInterceptors ?? [],
            InvocationInterceptors = invocationInterceptors ?? [],
        };
    }
}

/// <summary>Section <c>Wamp:Retry</c>: the retry policy of calls that are safe to repeat (see docs/policies.md).</summary>
public sealed class WampRetryOptions
{
    /// <summary>Attempts in all, the first included, 1 to 5. Default 3.</summary>
    public int MaxAttempts { get; set; } = WampRetryPolicy.Default.MaxAttempts;

    /// <summary>The bound of the first backoff. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; set; } = WampRetryPolicy.Default.InitialBackoff;

    /// <summary>The largest backoff bound. Default 2 s.</summary>
    public TimeSpan MaxBackoff { get; set; } = WampRetryPolicy.Default.MaxBackoff;

    /// <summary>How much each backoff bound grows, at least 1. Default 2.</summary>
    public double Multiplier { get; set; } = WampRetryPolicy.Default.Multiplier;

    /// <summary>How long <c>wamp.error.no_such_procedure</c> still counts as a callee restarting. Default 5 s.</summary>
    public TimeSpan CalleeRestartWindow { get; set; } = WampRetryPolicy.Default.CalleeRestartWindow;

    internal WampRetryPolicy ToPolicy() => new()
    {
        MaxAttempts = MaxAttempts,
        InitialBackoff = InitialBackoff,
        MaxBackoff = MaxBackoff,
        Multiplier = Multiplier,
        CalleeRestartWindow = CalleeRestartWindow,
    };
}

/// <summary>Section <c>Wamp:Reconnect</c>: delays between attempts to join (exponential backoff with full jitter).</summary>
public sealed class WampReconnectOptions
{
    /// <summary>The bound of the first delay. Default 100 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = WampReconnectPolicy.Default.InitialDelay;

    /// <summary>The largest delay. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = WampReconnectPolicy.Default.MaxDelay;

    /// <summary>How much the delay's bound grows per attempt, at least 1. Default 2.</summary>
    public double Multiplier { get; set; } = WampReconnectPolicy.Default.Multiplier;

    /// <summary>Attempts before the session gives up and ends (the health check then reports it); null: keep trying. Default null.</summary>
    public int? MaxAttempts { get; set; }

    internal WampReconnectPolicy ToPolicy() => new()
    {
        InitialDelay = InitialDelay,
        MaxDelay = MaxDelay,
        Multiplier = Multiplier,
        MaxAttempts = MaxAttempts,
    };
}

/// <summary>
/// Settings of the hosted session that configuration cannot carry (objects, not values): set them in code with
/// <c>services.ConfigureWampSession(...)</c>.
/// </summary>
public sealed class WampSessionSetup
{
    /// <summary>How contract arguments and results are (de)serialized; e.g. <c>MyJsonContext.Default.Options</c> for trimmed or Native AOT apps. Default <see cref="WampJson.DefaultOptions"/>.</summary>
    public System.Text.Json.JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>How the session authenticates (ticket, WAMP-CRA, cryptosign, ...). Default: anonymous.</summary>
    public WampAuthentication? Authentication { get; set; }

    /// <summary>Keepalive and TLS settings of the WebSocket. Default: <see cref="WampWebSocketOptions"/>' defaults.</summary>
    public WampWebSocketOptions? WebSocket { get; set; }

    /// <summary>Where callee stubs remember idempotent calls. Default: in memory.</summary>
    public IIdempotencyStore? IdempotencyStore { get; set; }

    /// <summary>The serializers the session offers, in order (e.g. MessagePack, then JSON). Default: JSON only.</summary>
    public IReadOnlyList<Serialization.WampSerializer>? Serializers { get; set; }

    /// <summary>
    /// How the hosted callees register (e.g. <c>roundrobin</c>, so replicas share their procedures; with a shared
    /// idempotency store such as the Redis one). Default: a single callee per procedure.
    /// </summary>
    public WampRegisterOptions? ContractRegisterOptions { get; set; }
}
