using WampContracts.Protocol;
using WampContracts.Router.Backplane;

namespace WampContracts.Router.Core;

/// <summary>The router's side of its backplane: what other nodes send goes to the realm it names.</summary>
internal sealed partial class RouterCore : IWampBackplaneHost
{
    private int _backplaneStarted;

    /// <summary>Joins the backplane, if one is configured (once).</summary>
    public void StartBackplane()
    {
        if (Options.Backplane is { } backplane && Interlocked.Exchange(ref _backplaneStarted, 1) == 0) backplane.Start(this);
    }

    private readonly TaskCompletionSource _backplaneJoined = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a starting router waits for its backplane's first connection before it serves anyway.</summary>
    public static readonly TimeSpan BackplaneJoinBound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until the backplane is first reachable, at most <paramref name="bound"/>: a router that starts while Redis
    /// is up serves cross-node work from its first session; one that starts without it serves anyway, refusing
    /// cross-node work with a clear error until the backplane comes (true if it was reached).
    /// </summary>
    public async Task<bool> WaitForBackplaneAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        if (Options.Backplane is null) return true;
        try
        {
            await _backplaneJoined.Task.WaitAsync(bound, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Leaves the backplane (after the sessions said GOODBYE); the other nodes then drop what this node held.</summary>
    public async ValueTask StopBackplaneAsync()
    {
        if (Options.Backplane is { } backplane && Volatile.Read(ref _backplaneStarted) == 1) await backplane.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// A session id: random in [1, 2^53]; with a backplane, its low 10 bits are this node's slot, so no two live nodes
    /// hand out the same id.
    /// </summary>
    private long NewSessionId()
    {
        if (Options.Backplane is { NodeSlot: >= 0 and < 1024 } backplane)
            return (Random.Shared.NextInt64(1, 1L << 43) << 10) | (long)backplane.NodeSlot;
        return Random.Shared.NextInt64(1, WampMessageParser.MaxId + 1);
    }

    void IWampBackplaneHost.OnMessage(ReadOnlyMemory<byte> bytes)
    {
        var backplane = Options.Backplane!;
        if (!BackplaneMessage.TryReadHead(bytes.Span, out var kind, out long from, out long to))
        {
            Log.BackplaneMessageRefused("unknown version or too short");
            return;
        }
        if (from == backplane.NodeId || (to != 0 && to != backplane.NodeId)) return;
        BackplaneMessage message;
        try
        {
            message = BackplaneMessage.Decode(bytes);
        }
        catch (FormatException e)
        {
            Log.BackplaneMessageRefused(e.Message);
            return;
        }
        try
        {
            if (kind == BackplaneKind.SyncRequest)
            {
                foreach (var realm in _realms.Values) realm.TryRun(from, (r, node) => r.SendRegistrations(backplane, node));
                return;
            }
            if (_configuredRealms is not null && !_configuredRealms.ContainsKey(message.Realm)) return;
            // Events and answers only matter to a realm that exists here; registrations and calls may create it.
            bool create = kind is BackplaneKind.Registration && message.Flag;
            while (true)
            {
                if (!_realms.TryGetValue(message.Realm, out var realm))
                {
                    if (!create) return;
                    lock (_realmCreation)
                    {
                        if (!_realms.TryGetValue(message.Realm, out realm))
                        {
                            realm = new Realm(message.Realm, this);
                            _realms[message.Realm] = realm;
                        }
                    }
                }
                if (realm.TryRun(message, static (r, m) => r.OnBackplaneMessage(m))) return;
            }
        }
        catch (Exception e) when (e is WampProtocolException or FormatException)
        {
            Log.BackplaneMessageRefused(e.Message);
        }
    }

    void IWampBackplaneHost.OnNodeJoined(long node)
    {
        Log.BackplaneNodeJoined(node);
        // Ask the newcomer (or a node back from the dead) for its registrations.
        SendSyncRequest(node);
    }

    void IWampBackplaneHost.OnNodeLost(long node)
    {
        var bound = Options.Backplane!.NodeTimeout;
        Log.BackplaneNodeLost(node, bound.TotalMilliseconds);
        foreach (var realm in _realms.Values) realm.TryRun((node, bound), static (r, s) => r.OnNodeLost(s.node, s.bound));
    }

    void IWampBackplaneHost.OnAvailabilityChanged(bool available)
    {
        if (available) _backplaneJoined.TrySetResult();
        var backplane = Options.Backplane!;
        Log.BackplaneAvailability(available);
        if (!available)
        {
            foreach (var realm in _realms.Values) realm.TryRun(0, static (r, _) => r.OnBackplaneLost());
            return;
        }
        var claims = new List<(string Key, string Policy)>();
        foreach (var realm in _realms.Values) realm.TryRun((claims, backplane), static (r, s) =>
        {
            r.OnBackplaneRestored();
            s.claims.AddRange(r.LocalClaims());
            // Told as well as asked: a node that came back earlier (and asked before this one could hear) learns this
            // node's registrations from this, and this node learns its registrations from the answer to the request.
            r.SendRegistrations(s.backplane, 0);
        });
        _ = ClaimAgainAsync(backplane, claims);
        SendSyncRequest(0);
    }

    private async Task ClaimAgainAsync(IWampBackplane backplane, List<(string Key, string Policy)> claims)
    {
        foreach (var (key, policy) in claims)
        {
            try
            {
                if (await backplane.SetClaimAsync(key, policy, held: true).ConfigureAwait(false) is { } other)
                    Log.BackplaneClaimConflict(key.Replace('\n', ' '), other);
            }
            catch (Exception e)
            {
                Log.BackplaneSendFailed(e, "*");
                return;
            }
        }
    }

    private void SendSyncRequest(long node)
    {
        var backplane = Options.Backplane!;
        var message = new BackplaneMessage { Kind = BackplaneKind.SyncRequest, From = backplane.NodeId, To = node };
        backplane.SendAsync(message).ContinueWith(t => Log.BackplaneSendFailed(t.Exception!.GetBaseException(), "*"),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }
}
