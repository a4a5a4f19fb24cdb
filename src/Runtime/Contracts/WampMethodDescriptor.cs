namespace WampContracts;

/// <summary>
/// What a generated proxy or stub knows about one contract method: its URI and its call policies. Generated code
/// holds one static instance per method, so a call allocates nothing to describe itself.
/// </summary>
public sealed class WampMethodDescriptor
{
    public WampMethodDescriptor(string service, string name, string uri, int timeoutMilliseconds = 0, bool idempotent = false, int idempotencyKeyParameter = -1, int retryAttempts = 0)
    {
        RetryAttempts = retryAttempts;
        Service = service;
        Name = name;
        Uri = uri;
        Timeout = timeoutMilliseconds > 0 ? TimeSpan.FromMilliseconds(timeoutMilliseconds) : null;
        Idempotent = idempotent;
        IdempotencyKeyParameter = idempotencyKeyParameter;
    }

    /// <summary>The contract interface's full name.</summary>
    public string Service { get; }

    /// <summary>The method's name in the contract.</summary>
    public string Name { get; }

    /// <summary>The procedure or topic URI.</summary>
    public string Uri { get; }

    /// <summary>From <see cref="TimeoutAttribute"/> on the method, else on the service; null when neither sets one.</summary>
    public TimeSpan? Timeout { get; }

    /// <summary>The method is marked <see cref="IdempotentAttribute"/>.</summary>
    public bool Idempotent { get; }

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
