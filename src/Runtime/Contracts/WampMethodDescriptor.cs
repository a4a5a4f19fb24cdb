namespace WampContracts;

/// <summary>
/// What a generated proxy or stub knows about one contract method: its URI and its call policies. Generated code
/// holds one static instance per method, so a call allocates nothing to describe itself.
/// </summary>
public sealed class WampMethodDescriptor
{
    /// <summary>A method whose idempotency is given as a <see cref="WampIdempotencyLevel"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="idempotencyLevel"/> is not a defined level.</exception>
    /// <exception cref="ArgumentException">
    /// <see cref="WampIdempotencyLevel.NoSideEffects"/> with an idempotency key parameter: a key asks the callee to
    /// deduplicate, which a method without side effects does not need (the generator reports it as WAMP0019).
    /// </exception>
    public WampMethodDescriptor(string service, string name, string uri, int timeoutMilliseconds, WampIdempotencyLevel idempotencyLevel,
        int idempotencyKeyParameter = -1, int retryAttempts = 0)
    {
        if (!Enum.IsDefined(idempotencyLevel)) throw new ArgumentOutOfRangeException(nameof(idempotencyLevel), idempotencyLevel, "not a defined idempotency level");
        if (idempotencyLevel == WampIdempotencyLevel.NoSideEffects && idempotencyKeyParameter >= 0)
            throw new ArgumentException($"'{name}' has no side effects and an idempotency key parameter; a key asks the callee to deduplicate, which a method without side effects does not need.", nameof(idempotencyKeyParameter));
        RetryAttempts = retryAttempts;
        Service = service;
        Name = name;
        Uri = uri;
        Timeout = timeoutMilliseconds > 0 ? TimeSpan.FromMilliseconds(timeoutMilliseconds) : null;
        IdempotencyLevel = idempotencyLevel;
        IdempotencyKeyParameter = idempotencyKeyParameter;
    }

    /// <summary>A method that is <see cref="IdempotentAttribute">[Idempotent]</see> (<paramref name="idempotent"/>) or not.</summary>
    public WampMethodDescriptor(string service, string name, string uri, int timeoutMilliseconds = 0, bool idempotent = false, int idempotencyKeyParameter = -1, int retryAttempts = 0)
        : this(service, name, uri, timeoutMilliseconds, idempotent ? WampIdempotencyLevel.Idempotent : WampIdempotencyLevel.Unknown, idempotencyKeyParameter, retryAttempts)
    {
    }

    /// <summary>The contract interface's full name.</summary>
    public string Service { get; }

    /// <summary>The method's name in the contract.</summary>
    public string Name { get; }

    /// <summary>The procedure or topic URI.</summary>
    public string Uri { get; }

    /// <summary>From <see cref="TimeoutAttribute"/> on the method, else on the service; null when neither sets one.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>
    /// Whether a call may be repeated, and at what cost: <see cref="WampIdempotencyLevel.NoSideEffects"/> is retried with
    /// nothing sent or stored; <see cref="WampIdempotencyLevel.Idempotent"/> is retried with a key and deduplicated by the
    /// callee; <see cref="WampIdempotencyLevel.Unknown"/> gets one attempt unless the call carries a key.
    /// </summary>
    public WampIdempotencyLevel IdempotencyLevel { get; }

    /// <summary>The method is marked <see cref="IdempotentAttribute"/>: keyed, deduplicated by the callee, retried.</summary>
    public bool Idempotent => IdempotencyLevel == WampIdempotencyLevel.Idempotent;

    /// <summary>The index of the <see cref="IdempotencyKeyAttribute"/> parameter, or -1.</summary>
    public int IdempotencyKeyParameter { get; }

    /// <summary>From <see cref="RetryAttribute"/>; 0 when the method sets none (the session's policy applies).</summary>
    public int RetryAttempts { get; }

    /// <summary>The retry policy <see cref="RetryAttempts"/> asks for, made once; null when the session's applies.</summary>
    internal WampRetryPolicy? RetryPolicy => RetryAttempts > 0 ? _retryPolicy ??= new WampRetryPolicy { MaxAttempts = RetryAttempts } : null;

    private WampRetryPolicy? _retryPolicy;

    /// <summary>The call options derived from the policies, made once.</summary>
    internal WampCallOptions? CallOptions { get; set; }

    public override string ToString() => $"{Service}.{Name} ({Uri})";
}

/// <summary>
/// Whether a procedure is safe to call more than once for one logical call, and what that takes; after protobuf's
/// <c>idempotency_level</c>. Both levels other than <see cref="Unknown"/> are retried on transient failures within the
/// deadline and the session's retry budget; they differ in what the callee must do to make a repeat harmless.
/// </summary>
public enum WampIdempotencyLevel
{
    /// <summary>
    /// The default: a repeat could duplicate an effect. One attempt, unless the call carries an idempotency key
    /// (an <see cref="IdempotencyKeyAttribute"/> parameter), which the callee deduplicates.
    /// </summary>
    Unknown = 0,

    /// <summary>
    /// <see cref="IdempotentAttribute"/>: effects that must happen once. Each logical call carries a key (the same on
    /// every attempt); the callee fingerprints the arguments and stores and replays the first outcome.
    /// </summary>
    Idempotent = 1,

    /// <summary>
    /// <see cref="NoSideEffectsAttribute"/>: a read; a repeat changes nothing. Retried like <see cref="Idempotent"/>,
    /// but no key is sent and the callee fingerprints and stores nothing.
    /// </summary>
    NoSideEffects = 2,
}
