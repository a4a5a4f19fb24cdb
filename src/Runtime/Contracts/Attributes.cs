namespace WampContracts;

/// <summary>
/// Marks an interface as a WAMP service: the source generator emits a caller proxy (<c>session.GetProxy&lt;T&gt;()</c>)
/// and a callee stub (<c>session.RegisterAsync&lt;T&gt;(implementation)</c>). Each method is a procedure whose URI
/// is <paramref name="prefix"/> + <c>.</c> + the method name in snake_case, without an <c>Async</c> suffix.
/// </summary>
// Allowed on classes and structs too, so that the analyzer, not the compiler, reports the mistake with its fix (WAMP0001).
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class WampServiceAttribute(string prefix) : Attribute
{
    public string Prefix { get; } = prefix;
}

/// <summary>
/// Marks an interface as a set of WAMP events: the generator emits a publisher (<c>session.GetPublisher&lt;T&gt;()</c>)
/// and a subscriber dispatcher (<c>session.SubscribeAsync&lt;T&gt;(handler)</c>). Each method is a topic named like
/// a <see cref="WampServiceAttribute"/> procedure.
/// </summary>
// Allowed on classes and structs too, so that the analyzer, not the compiler, reports the mistake with its fix (WAMP0001).
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class WampEventsAttribute(string prefix) : Attribute
{
    public string Prefix { get; } = prefix;
}

/// <summary>Overrides a procedure's URI: a relative name (appended to the service prefix) or a full URI (containing a dot).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class WampProcedureAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Overrides a topic's URI: a relative name (appended to the events prefix) or a full URI (containing a dot).</summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class WampTopicAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>The time limit of a procedure (on a method) or of every procedure of a service (on the interface), in milliseconds.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Interface, Inherited = false)]
public sealed class TimeoutAttribute(int milliseconds) : Attribute
{
    public int Milliseconds { get; } = milliseconds;
}

/// <summary>
/// The procedure has effects that must happen once per logical call: each call gets an idempotency key (the same on
/// every retry), the generated callee stub deduplicates by it (a fingerprint of the arguments, the first outcome stored
/// in the <see cref="IIdempotencyStore"/> and replayed), and transient failures are retried. For a method without side
/// effects, such as a read, use <see cref="NoSideEffectsAttribute"/> instead: it is retried the same way with nothing
/// sent or stored.
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class IdempotentAttribute : Attribute;

/// <summary>
/// The procedure has no side effects (a read): running it again changes nothing, so transient failures are retried
/// within the deadline and the retry budget exactly as for <see cref="IdempotentAttribute"/> methods, but no
/// idempotency key is sent and the callee fingerprints and stores nothing. After protobuf's
/// <c>idempotency_level = NO_SIDE_EFFECTS</c>. Cannot be combined with <see cref="IdempotentAttribute"/> or an
/// <see cref="IdempotencyKeyAttribute"/> parameter (WAMP0019).
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class NoSideEffectsAttribute : Attribute;

/// <summary>
/// This <c>string</c> or <c>Guid</c> parameter carries the call's idempotency key instead of an argument; when the caller
/// passes null, the runtime generates one.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, Inherited = false)]
public sealed class IdempotencyKeyAttribute : Attribute;

/// <summary>
/// Maps an exception type deriving from <see cref="WampException"/> to an error URI: a callee that throws it answers with
/// that URI and the exception's payload, and a generated caller proxy throws the same type again.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class WampErrorAttribute(string uri) : Attribute
{
    public string Uri { get; } = uri;
}

/// <summary>
/// Retries this procedure on transient failures with up to <see cref="MaxAttempts"/> attempts. Only allowed on
/// methods that are safe to repeat: <see cref="NoSideEffectsAttribute"/> or <see cref="IdempotentAttribute"/> methods,
/// or methods with an <see cref="IdempotencyKeyAttribute"/> parameter (WAMP0018).
/// </summary>
[AttributeUsage(AttributeTargets.Method, Inherited = false)]
public sealed class RetryAttribute : Attribute
{
    /// <summary>Attempts in all, the first included (1 to 5).</summary>
    public int MaxAttempts { get; init; } = 3;
}
