using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Router.Core;

/// <summary>
/// One client session inside the router. Its routing state (calls, invocations, registrations, subscriptions)
/// is guarded by the lock of the realm it joined; sending only queues, so it is safe under that lock.
/// </summary>
internal sealed class RouterSession(IWampTransport transport, WampRouterOptions options, ILogger log)
{
    private int _cutOff;

    public IWampTransport Transport { get; } = transport;

    public FrameSender Sender { get; } = new();

    public long Id { get; set; }

    public Realm? Realm { get; set; }

    public string AuthId { get; set; } = "";

    public string AuthRole { get; set; } = "anonymous";

    /// <summary>How the session authenticated (<c>anonymous</c>, <c>ticket</c>, <c>wampcra</c>, <c>cryptosign</c>).</summary>
    public string AuthMethod { get; set; } = "anonymous";

    /// <summary>Who vouched for the identity: <c>static</c> (a configured table) or <c>dynamic</c> (a callback).</summary>
    public string AuthProvider { get; set; } = "static";

    /// <summary>What the authenticator gave the client in <c>WELCOME.Details.authextra</c>; null for none.</summary>
    public System.Text.Json.Nodes.JsonObject? AuthExtra { get; set; }

    // Features the client announced in HELLO (a feature is used only when both ends announced it).
    public bool CalleeCallCanceling { get; set; }
    public bool CalleeCallTimeout { get; set; }
    public bool CalleeProgressiveResults { get; set; }

    /// <summary>Calls this session made that are still running, by its CALL request id.</summary>
    public Dictionary<long, Invocation> Calls { get; } = new();

    /// <summary>Invocations sent to this session as callee and not yet answered, by INVOCATION request id.</summary>
    public Dictionary<long, Invocation> Invocations { get; } = new();

    /// <summary>The last INVOCATION request id issued to this session; answers to ids up to it may arrive late and are dropped.</summary>
    public long LastInvocationId { get; set; }

    public HashSet<Registration> Registrations { get; } = new();

    public HashSet<Subscription> Subscriptions { get; } = new();

    /// <summary>A receive the handshake left running when it gave up waiting for HELLO; the close awaits it.</summary>
    public Task<WampReceiveResult>? PendingReceive { get; set; }

    /// <summary>The writer loop that drains <see cref="Sender"/> into the transport.</summary>
    public Task WriterLoop { get; set; } = Task.CompletedTask;

    /// <summary>The router said GOODBYE first: the peer's GOODBYE is then the reply, not a request.</summary>
    public bool GoodbyeSent { get; set; }

    /// <summary>Set once the session has left its realm; nothing more is routed to or from it.</summary>
    public bool Closed { get; set; }

    /// <summary>
    /// Queues a frame for the peer. A peer that stops reading is cut off once what waits for it passes
    /// <see cref="WampRouterOptions.MaxQueuedBytesPerSession"/> (or <see cref="WampRouterOptions.MaxQueuedMessagesPerSession"/>),
    /// so no client can make the router hold unbounded memory; one frame larger than the bound still goes to a peer
    /// that has nothing else waiting.
    /// </summary>
    public void Send(WampFrame frame)
    {
        if (Forward is { } forward) { forward(frame); frame.Release(); return; }
        if (Closed || Volatile.Read(ref _cutOff) != 0) { frame.Release(); return; }
        long queuedBytes = Sender.QueuedBytes;
        if (Sender.QueuedCount >= options.MaxQueuedMessagesPerSession ||
            (queuedBytes > 0 && queuedBytes + frame.Memory.Length > options.MaxQueuedBytesPerSession))
        {
            frame.Release();
            if (Interlocked.Exchange(ref _cutOff, 1) == 0)
            {
                // Its receive loop then ends, and the session leaves its realm.
                log.SlowConsumerCutOff(Id, Sender.QueuedCount, queuedBytes, options.MaxQueuedBytesPerSession);
                Transport.Abort();
            }
            return;
        }
        Sender.TryEnqueue(frame);
    }

    /// <summary>
    /// For a session of another router node (seen through the backplane): that node's id; 0 for a session of this node.
    /// </summary>
    public long RemoteNode { get; init; }

    /// <summary>For a session of another node: what carries a frame meant for it over the backplane (it must not keep the frame).</summary>
    public Action<WampFrame>? Forward { get; init; }

    /// <summary>A stand-in for a session of another router node: frames sent to it go to <paramref name="forward"/>.</summary>
    public static RouterSession Remote(long node, long id, string authId, string authRole, Action<WampFrame> forward, WampRouterOptions options, ILogger log) =>
        new(null!, options, log)
        {
            RemoteNode = node,
            Id = id,
            AuthId = authId,
            AuthRole = authRole,
            Forward = forward,
            // What the remote callee supports is decided on its own node.
            CalleeCallCanceling = true,
            CalleeCallTimeout = true,
            CalleeProgressiveResults = true,
        };

    public long NextInvocationId()
    {
        long id = LastInvocationId + 1;
        if (id > WampMessageParser.MaxId) id = 1;
        LastInvocationId = id;
        return id;
    }
}

/// <summary>A call in flight: routed from a caller's CALL to a callee's INVOCATION, until the answer, a cancel, a timeout or a leave.</summary>
internal sealed class Invocation : ITimed
{
    public required RouterSession Caller { get; init; }
    public required long CallRequestId { get; init; }
    public required RouterSession Callee { get; init; }
    public required long InvocationId { get; init; }
    public required string Procedure { get; init; }
    public bool CallerWantsProgress { get; init; }
    public TimeSpan Timeout { get; init; }
    public bool KillRequested { get; set; }

    long ITimed.TimerDue { get; set; }
    object? ITimed.TimerList { get; set; }
    ITimed? ITimed.TimerPrevious { get; set; }
    ITimed? ITimed.TimerNext { get; set; }
    void ITimed.OnExpired() => Caller.Realm?.OnCallTimeout(this);
}

/// <summary>A registration: one URI and match policy, one or more callees (shared registration).</summary>
internal sealed class Registration : IUriEntry
{
    public required long Id { get; init; }
    public required string Uri { get; init; }
    public required WampMatch Match { get; init; }
    public required WampInvokePolicy Invoke { get; init; }
    /// <summary>The authrole of the session that created it: in a configured realm only that role may join it.</summary>
    public required string AuthRole { get; init; }
    public List<(RouterSession Session, bool DiscloseCaller)> Callees { get; } = new();
    public int NextRoundRobin { get; set; }
}

/// <summary>A subscription: one topic and match policy, shared by every subscribed session.</summary>
internal sealed class Subscription : IUriEntry
{
    public required long Id { get; init; }
    public required string Uri { get; init; }
    public required WampMatch Match { get; init; }
    public HashSet<RouterSession> Subscribers { get; } = new();
}
