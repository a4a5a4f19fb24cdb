namespace WampContracts;

/// <summary>The rest of a caller's pipeline: the next interceptor, or the CALL itself.</summary>
public delegate Task<WampResult> WampCallContinuation(WampOutgoingCall call, CancellationToken cancellationToken);

/// <summary>
/// Wraps every outgoing call attempt of a session (generated proxies and <see cref="WampSession.CallAsync(string, WampPayload, WampCallOptions?, CancellationToken)"/>), the way a
/// gRPC client interceptor does: it may read and add metadata, change the payload or options, answer without calling
/// <c>next</c> (short-circuit), and observe the result or the error. Registered in
/// <see cref="WampSessionOptions.CallInterceptors"/>; the first in the list runs outermost. A retried call passes
/// through the interceptors once per attempt (<see cref="WampOutgoingCall.Attempt"/>). Streams
/// (<see cref="WampSession.StreamAsync(string, WampPayload, WampCallOptions?, CancellationToken)"/>) carry the ambient metadata but are not intercepted.
/// </summary>
public interface IWampCallInterceptor
{
    Task<WampResult> CallAsync(WampOutgoingCall call, WampCallContinuation next, CancellationToken cancellationToken);
}

/// <summary>
/// Wraps every invocation a session's registered procedures receive, the way an ASP.NET Core SignalR hub filter does:
/// it runs with <see cref="WampInvocationContext.Current"/> set, may read the caller's metadata
/// (<see cref="WampInvocation.GetMetadata"/>), leave data for the handler in <see cref="WampInvocation.Items"/>,
/// answer without calling <c>next</c> (or throw a <see cref="WampException"/> to refuse), and observe the result or
/// the error. Registered in <see cref="WampSessionOptions.InvocationInterceptors"/>; the first in the list runs outermost.
/// </summary>
public interface IWampInvocationInterceptor
{
    ValueTask<WampPayload> InvokeAsync(WampInvocation invocation, WampProcedureHandler next, CancellationToken cancellationToken);
}

/// <summary>One attempt of an outgoing call, as call interceptors see it.</summary>
public sealed class WampOutgoingCall
{
    private Dictionary<string, string>? _metadata;

    internal WampOutgoingCall(WampSession session, string procedure, WampPayload payload, WampCallOptions options, WampMethodDescriptor? method, int attempt)
    {
        Session = session;
        Procedure = procedure;
        Payload = payload;
        Options = options;
        Method = method;
        Attempt = attempt;
        if (WampCallContext.Current is { } ambient) _metadata = new Dictionary<string, string>(ambient, StringComparer.Ordinal);
    }

    public WampSession Session { get; }

    /// <summary>The procedure URI called.</summary>
    public string Procedure { get; }

    /// <summary>The contract method, for calls of a generated proxy; null for <see cref="WampSession.CallAsync(string, WampPayload, WampCallOptions?, CancellationToken)"/>.</summary>
    public WampMethodDescriptor? Method { get; }

    /// <summary>1 for the first attempt; a retry of a generated proxy's call counts on.</summary>
    public int Attempt { get; }

    public WampPayload Payload { get; set; }

    public WampCallOptions Options { get; set; }

    /// <summary>
    /// Metadata sent with this attempt as <c>x_</c>-prefixed CALL options (string values), pre-filled from the ambient
    /// <see cref="WampCallContext"/>. The callee reads it with <see cref="WampInvocation.GetMetadata"/>.
    /// </summary>
    public IDictionary<string, string> Metadata => _metadata ??= new Dictionary<string, string>(StringComparer.Ordinal);

    internal IReadOnlyDictionary<string, string>? MetadataOrNull => _metadata is { Count: > 0 } m ? m : null;
}

/// <summary>
/// Per-call metadata from a caller: every call started inside the scope (generated proxies and
/// <see cref="WampSession.CallAsync(string, WampPayload, WampCallOptions?, CancellationToken)"/>, on any session) carries the given <c>x_</c> keys as CALL options, which the
/// router forwards to the callee (<see cref="WampInvocation.GetMetadata"/>). Scopes nest; an inner one adds to (and
/// may replace keys of) the outer one.
/// </summary>
/// <example><code>
/// using (WampCallContext.WithMetadata("x_tenant", "acme"))
///     await conferences.Get(123, ct);
/// </code></example>
public static class WampCallContext
{
    private static readonly AsyncLocal<Dictionary<string, string>?> Ambient = new();

    /// <exception cref="ArgumentException"><paramref name="key"/> is not <c>x_</c> followed by lowercase letters, digits and <c>_</c>.</exception>
    public static IDisposable WithMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckKey(key);
        var next = Ambient.Value is { } outer ? new Dictionary<string, string>(outer, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        next[key] = value;
        return AmbientScope.Enter(Ambient, next);
    }

    /// <summary>The metadata of the scope around the current code, if any.</summary>
    public static IReadOnlyDictionary<string, string>? Current => Ambient.Value;

    internal static void CheckKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // The shape Autobahn accepts for implementation-specific keys (^x_[a-z][a-z0-9_]*$), so every peer reads them.
        bool valid = key.Length > 2 && key.StartsWith("x_", StringComparison.Ordinal) && char.IsAsciiLetterLower(key[2]);
        for (int i = 3; valid && i < key.Length; i++) valid = char.IsAsciiLetterLower(key[i]) || char.IsAsciiDigit(key[i]) || key[i] == '_';
        if (!valid)
            throw new ArgumentException($"Call metadata key '{key}' must look like 'x_tenant': 'x_', then lowercase letters, digits and '_'.", nameof(key));
        // The runtime writes these itself, from the trace, the retry loop and the call's key.
        if (key is "x_traceparent" or "x_tracestate" or "x_attempt" or "x_idempotency_key" or CallMetadata.PayloadKeyName)
            throw new ArgumentException($"Call metadata key '{key}' is written by the runtime; choose another.", nameof(key));
    }
}

/// <summary>The invocation the current code runs for, as WampSharp's <c>WampInvocationContext.Current</c>.</summary>
public static class WampInvocationContext
{
    private static readonly AsyncLocal<WampInvocation?> Ambient = new();

    /// <summary>
    /// Inside the target of a generated callee stub (and the invocation interceptors around it; for a handler registered
    /// with <see cref="WampSession.RegisterAsync(string, WampProcedureHandler, WampRegisterOptions?, CancellationToken)"/>,
    /// which gets the invocation as its parameter, only when the session has interceptors or the call has a time limit): its invocation, with the procedure, the
    /// caller's session id, <c>authid</c> and <c>authrole</c> (when the dealer discloses the caller), the remaining time,
    /// idempotency key, attempt and metadata. Null elsewhere.
    /// </summary>
    public static WampInvocation? Current => Ambient.Value;

    internal static void Set(WampInvocation? invocation) => Ambient.Value = invocation;
}
