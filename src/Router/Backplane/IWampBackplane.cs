namespace WampContracts.Router.Backplane;

/// <summary>
/// What joins router nodes into one router: a message bus that hands every message to every node in the order one node
/// sent them, the list of live nodes, and a shared table of claims (who registered which procedure, with which policy).
/// The router decides what travels and what it means; a backplane only carries bytes. Set one with
/// <see cref="WampRouterOptions.Backplane"/> (for Redis: <c>UseRedisBackplane</c> from the WampContracts.Router.Redis package).
/// </summary>
public interface IWampBackplane : IAsyncDisposable
{
    /// <summary>This node's id, unique among the live nodes (not 0).</summary>
    long NodeId { get; }

    /// <summary>A number in [0, 1023] no other live node holds (it goes into this node's session ids); -1 until known.</summary>
    int NodeSlot { get; }

    /// <summary>How long a node may stay silent before the others count it dead and drop what it held.</summary>
    TimeSpan NodeTimeout { get; }

    /// <summary>True while the backplane can carry messages and claims.</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// Connects in the background and reports to <paramref name="host"/> from then on: messages (one at a time, in
    /// order), nodes that appeared or died, and availability changes. Returns at once.
    /// </summary>
    void Start(IWampBackplaneHost host);

    /// <summary>
    /// Hands a message to every node (this one included, which ignores its own); completes once the backplane has
    /// taken it, and fails (<see cref="WampBackplaneException"/>) when it could not.
    /// </summary>
    Task BroadcastAsync(ReadOnlyMemory<byte> message);

    /// <summary>
    /// Records that this node holds (<paramref name="held"/> true) or no longer holds the claim <paramref name="key"/>
    /// with <paramref name="policy"/>. Returns null when done, or the policy another live node holds the key with when
    /// that conflicts: a different policy, or a policy starting with <c>single</c>. Fails with <see cref="WampBackplaneException"/>
    /// when the backplane is unavailable. The claims of a node that died are dropped by the backplane.
    /// </summary>
    Task<string?> SetClaimAsync(string key, string policy, bool held);
}

/// <summary>The router side of an <see cref="IWampBackplane"/>.</summary>
public interface IWampBackplaneHost
{
    /// <summary>A message some node broadcast (possibly this one). Called one at a time, in the order each node sent them.</summary>
    void OnMessage(ReadOnlyMemory<byte> message);

    /// <summary>A node appeared (or came back after being counted dead).</summary>
    void OnNodeJoined(long node);

    /// <summary>A node stopped renewing its heartbeat within <see cref="IWampBackplane.NodeTimeout"/>.</summary>
    void OnNodeLost(long node);

    /// <summary>The backplane became unavailable (messages may have been lost) or available again.</summary>
    void OnAvailabilityChanged(bool available);
}

/// <summary>The backplane could not take a message or a claim (for Redis: the server is unreachable).</summary>
public sealed class WampBackplaneException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Error URIs the router answers cross-node work with.</summary>
public static class WampBackplaneErrors
{
    /// <summary>The backplane is unreachable: cross-node calls, acknowledged publications and registrations are refused until it returns.</summary>
    public const string Unavailable = "wampcontracts.error.backplane_unavailable";
}
