using System.Buffers;
using System.Text.Json;
using WampContracts.Protocol;
using WampContracts.Router.Backplane;

namespace WampContracts.Router.Core;

/// <summary>
/// The realm's share of a router made of several nodes (see docs/scale-out.md). Sessions of other nodes appear here as
/// stand-ins (<see cref="RouterSession.Remote"/>): a remote callee inside the registrations it holds, a remote caller
/// for the calls it makes to this node's callees. The dealer and broker then work as on one node; what a stand-in is
/// sent crosses the backplane. Everything here runs under the realm's lock. Without a backplane none of it is used.
/// </summary>
internal sealed partial class Realm
{
    private IWampBackplane? Backplane => router.Options.Backplane;

    // Callees of other nodes holding registrations here, and callers of other nodes with calls running here.
    private readonly Dictionary<(long Node, long Session), RouterSession> _remoteCallees = new();
    private readonly Dictionary<(long Node, long Session), RouterSession> _remoteCallers = new();
    // Calls from other nodes running here, by (their node, their call id): where a CANCEL for them goes.
    private readonly Dictionary<(long Node, long Call), RouterSession> _callsFromNodes = new();
    // Calls of this node's sessions running on other nodes, by call id.
    private readonly Dictionary<long, Invocation> _remoteCalls = new();
    private long _lastRemoteCallId;

    private bool HoldsRemoteState => _remoteCallees.Count > 0 || _remoteCallers.Count > 0;

    /// <summary>Runs <paramref name="action"/> under the lock unless the realm was removed (the caller then takes a new one).</summary>
    public bool TryRun<TState>(TState state, Action<Realm, TState> action)
    {
        lock (Lock)
        {
            if (_removed) return false;
            action(this, state);
            RemoveIfUnused();
            return true;
        }
    }

    /// <summary>An empty realm holding nothing of other nodes either is forgotten (under the lock).</summary>
    private void RemoveIfUnused()
    {
        if (_removed || _sessions.Count > 0 || HoldsRemoteState) return;
        _removed = true;
        _timers.Dispose();
        router.RemoveRealm(this);
    }

    private void Broadcast(IWampBackplane backplane, BackplaneMessage message)
    {
        var sent = backplane.SendAsync(message);
        if (!sent.IsCompletedSuccessfully)
            sent.ContinueWith(t => router.Log.BackplaneSendFailed(t.Exception!.GetBaseException(), Name),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    // ---- Pub/sub ----

    /// <summary>Hands a publication to the other nodes; an acknowledged one is acknowledged once the backplane took it.</summary>
    private void PublishAcrossNodes(IWampBackplane backplane, RouterSession publisher, in WampMessage m, string topic, long publicationId,
        bool disclose, bool acknowledge)
    {
        long requestId = m.Id1;
        var message = new BackplaneMessage
        {
            Kind = BackplaneKind.Event,
            From = backplane.NodeId,
            Realm = Name,
            Uri = topic,
            Id = publicationId,
            Session = publisher.Id,
            AuthId = disclose ? publisher.AuthId : null,
            AuthRole = disclose ? publisher.AuthRole : null,
            Flag = disclose,
            Raw = m.Dict.IsEmpty ? default : m.Dict.Json.ToArray(),
            Payload = m.Payload,
        };
        if (!acknowledge)
        {
            if (backplane.IsAvailable) Broadcast(backplane, message);
            return;
        }
        var sent = backplane.SendAsync(message);
        sent.ContinueWith(t =>
        {
            lock (Lock)
            {
                if (t.IsCompletedSuccessfully) publisher.Send(RouterFrames.Ack(WampMessageType.Published, requestId, publicationId));
                else publisher.Send(RouterFrames.Error(WampMessageType.Publish, requestId, WampBackplaneErrors.Unavailable,
                    $"the event on '{RouterFrames.Quote(topic)}' reached this node's subscribers only: the backplane did not take it ({t.Exception?.GetBaseException().Message})"));
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void OnRemoteEvent(BackplaneMessage message)
    {
        if (_subscriptions.IsEmpty || message.Uri is null) return;
        // The publication's options: its delivery filter, and the x_ options (trace context) its events carry, as on the
        // publisher's node.
        var options = new WampDict(message.Raw);
        var filter = new DeliveryFilter(options, null);
        var publisher = message.Flag
            ? RouterSession.Remote(message.From, message.Session, message.AuthId ?? "", message.AuthRole ?? "", static _ => { }, Options, router.Log)
            : null;
        Deliver(message.Uri, message.Id, message.Payload, filter, publisher, options);
    }

    // ---- Registrations ----

    private static string ClaimKey(string realm, string uri, WampMatch match) => $"{realm}\n{match.ToString().ToLowerInvariant()}\n{uri}";

    private string ClaimPolicy(WampInvokePolicy invoke, string authRole) =>
        // Shared registrations are shared within one role only in a configured realm.
        Authorization is null ? invoke.ToString().ToLowerInvariant() : $"{invoke.ToString().ToLowerInvariant()}|{authRole}";

    private static bool HasLocalCallee(Registration? registration) =>
        registration is not null && registration.Callees.Exists(static c => c.Session.RemoteNode == 0);

    /// <summary>The first callee of a procedure on this node claims it cluster-wide first (single is single everywhere).</summary>
    private void RegisterAcrossNodes(IWampBackplane backplane, RouterSession session, long requestId, string uri, WampMatch match,
        WampInvokePolicy invoke, bool discloseCaller)
    {
        if (!backplane.IsAvailable)
        {
            session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampBackplaneErrors.Unavailable,
                $"cannot register '{RouterFrames.Quote(uri)}': the backplane is unreachable, so no other node can be asked"));
            return;
        }
        string key = ClaimKey(Name, uri, match), policy = ClaimPolicy(invoke, session.AuthRole);
        Task<string?> claim;
        try
        {
            claim = backplane.SetClaimAsync(key, policy, held: true);
        }
        catch (Exception e)
        {
            claim = Task.FromException<string?>(e);
        }
        claim.ContinueWith(t =>
        {
            lock (Lock)
            {
                if (!t.IsCompletedSuccessfully)
                {
                    session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampBackplaneErrors.Unavailable,
                        $"cannot register '{RouterFrames.Quote(uri)}': the backplane failed ({t.Exception?.GetBaseException().Message})"));
                    return;
                }
                if (t.Result is { } held)
                {
                    bool single = held.StartsWith("single", StringComparison.Ordinal) || invoke == WampInvokePolicy.Single;
                    session.Send(single
                        ? RouterFrames.Error(WampMessageType.Register, requestId, WampUris.ProcedureAlreadyExists, $"procedure '{RouterFrames.Quote(uri)}' is already registered")
                        : RouterFrames.Error(WampMessageType.Register, requestId, WampUris.ProcedureExistsWithDifferentInvocationPolicy,
                            $"procedure '{RouterFrames.Quote(uri)}' is registered with invoke policy '{held.Split('|')[0]}'"));
                    ReleaseClaimIfUnused(backplane, uri, match, invoke, session.AuthRole);
                    return;
                }
                // The session may have left, or the realm changed, while the claim travelled.
                if (session.Closed || _removed || !CanRegister(session, requestId, uri, match, invoke))
                {
                    ReleaseClaimIfUnused(backplane, uri, match, invoke, session.AuthRole);
                    return;
                }
                AddCallee(session, requestId, uri, match, invoke, discloseCaller);
            }
        }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    private void ReleaseClaimIfUnused(IWampBackplane backplane, string uri, WampMatch match, WampInvokePolicy invoke, string authRole)
    {
        if (HasLocalCallee(_registrations.Find(uri, match))) return;
        _ = ReleaseClaimAsync(backplane, ClaimKey(Name, uri, match), ClaimPolicy(invoke, authRole));
    }

    private async Task ReleaseClaimAsync(IWampBackplane backplane, string key, string policy)
    {
        try
        {
            await backplane.SetClaimAsync(key, policy, held: false).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The claim goes with this node's heartbeat, or is set again when the backplane returns.
            router.Log.BackplaneSendFailed(e, Name);
        }
    }

    /// <summary>A callee of this node registered or unregistered: the other nodes update their copy.</summary>
    private void AnnounceRegistration(IWampBackplane backplane, RouterSession session, Registration registration, bool discloseCaller, bool added, long to = 0) =>
        Broadcast(backplane, new BackplaneMessage
        {
            Kind = BackplaneKind.Registration,
            From = backplane.NodeId,
            To = to,
            Realm = Name,
            Uri = registration.Uri,
            Session = session.Id,
            AuthId = session.AuthId,
            AuthRole = session.AuthRole,
            Flag = added,
            Flag2 = discloseCaller,
            Text = registration.Match.ToString().ToLowerInvariant(),
            Text2 = registration.Invoke.ToString().ToLowerInvariant(),
        });

    /// <summary>Sends every registration of this node's callees to <paramref name="node"/> (0: every node).</summary>
    public void SendRegistrations(IWampBackplane backplane, long node)
    {
        foreach (var session in _sessions.Values)
            foreach (var registration in session.Registrations)
            {
                bool disclose = registration.Callees.Find(c => c.Session == session).DiscloseCaller;
                AnnounceRegistration(backplane, session, registration, disclose, added: true, to: node);
            }
    }

    /// <summary>Claims again what this node's callees hold (after the backplane came back, possibly empty).</summary>
    public IEnumerable<(string Key, string Policy)> LocalClaims()
    {
        var claims = new HashSet<(string, string)>();
        foreach (var session in _sessions.Values)
            foreach (var registration in session.Registrations)
                claims.Add((ClaimKey(Name, registration.Uri, registration.Match), ClaimPolicy(registration.Invoke, registration.AuthRole)));
        return claims;
    }

    private void OnRemoteRegistration(BackplaneMessage message)
    {
        if (message.Uri is null) return;
        var match = message.Text switch { "prefix" => WampMatch.Prefix, "wildcard" => WampMatch.Wildcard, _ => WampMatch.Exact };
        var key = (message.From, message.Session);
        var registration = _registrations.Find(message.Uri, match);
        if (!message.Flag)
        {
            if (!_remoteCallees.TryGetValue(key, out var gone)) return;
            if (registration is not null && gone.Registrations.Contains(registration)) RemoveCallee(gone, registration);
            ForgetIfIdle(gone);
            return;
        }
        WampInvokePolicy invoke = message.Text2 switch
        {
            "roundrobin" => WampInvokePolicy.RoundRobin,
            "random" => WampInvokePolicy.Random,
            "first" => WampInvokePolicy.First,
            "last" => WampInvokePolicy.Last,
            _ => WampInvokePolicy.Single,
        };
        string authRole = message.AuthRole ?? "";
        if (!_remoteCallees.TryGetValue(key, out var callee))
        {
            var (node, id) = key;
            callee = RouterSession.Remote(node, id, message.AuthId ?? "", message.AuthRole ?? "", frame => ForwardToCallee(node, frame), Options, router.Log);
            callee.Realm = this;
            _remoteCallees.Add(key, callee);
        }
        if (registration is null)
        {
            registration = new Registration { Id = router.NextId(), Uri = message.Uri, Match = match, Invoke = invoke, AuthRole = authRole };
            _registrations.Add(registration);
        }
        else if (callee.Registrations.Contains(registration))
        {
            return; // known already (a sync repeats what was announced)
        }
        else if (registration.Invoke != invoke || invoke == WampInvokePolicy.Single)
        {
            // The claims refuse this; it can only happen after the backplane lost its claims (a Redis restart) while
            // two nodes registered. The copy keeps the first one seen.
            router.Log.BackplaneRegistrationConflict(Name, message.Uri, message.From);
            ForgetIfIdle(callee);
            return;
        }
        registration.Callees.Add((callee, message.Flag2));
        callee.Registrations.Add(registration);
    }

    private void ForgetIfIdle(RouterSession remote)
    {
        if (remote.Registrations.Count == 0 && remote.Invocations.Count == 0)
            _remoteCallees.Remove((remote.RemoteNode, remote.Id));
    }

    // ---- Calls ----

    /// <summary>Sends a call to a callee of another node; the answer comes back as <see cref="BackplaneKind.Answer"/>.</summary>
    private bool CallAcrossNodes(RouterSession caller, in WampMessage m, string uri, RouterSession callee, bool discloseCaller,
        bool wantsProgress, long? timeoutMs, TimeSpan timeout)
    {
        var backplane = Backplane!;
        long requestId = m.Id1;
        if (!backplane.IsAvailable)
        {
            caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampBackplaneErrors.Unavailable,
                $"the callee of '{RouterFrames.Quote(uri)}' is on another node, and the backplane is unreachable"));
            return true;
        }
        var invocation = new Invocation
        {
            Caller = caller,
            CallRequestId = requestId,
            Callee = callee,
            InvocationId = ++_lastRemoteCallId,
            Procedure = uri,
            CallerWantsProgress = wantsProgress,
            Timeout = timeout,
        };
        caller.Calls.Add(requestId, invocation);
        callee.Invocations.Add(invocation.InvocationId, invocation);
        _remoteCalls.Add(invocation.InvocationId, invocation);

        var options = new ArrayBufferWriter<byte>(64);
        using (var w = new Utf8JsonWriter(options))
        {
            w.WriteStartObject();
            if (wantsProgress) w.WriteBoolean("receive_progress"u8, true);
            if (timeoutMs is > 0) w.WriteNumber("timeout"u8, timeoutMs.Value);
            m.Dict.WriteCustomOptions(w);
            w.WriteEndObject();
        }
        var message = new BackplaneMessage
        {
            Kind = BackplaneKind.Call,
            From = backplane.NodeId,
            To = callee.RemoteNode,
            Realm = Name,
            Uri = uri,
            Id = invocation.InvocationId,
            Session = caller.Id,
            Target = callee.Id,
            AuthId = caller.AuthId,
            AuthRole = caller.AuthRole,
            Flag = discloseCaller,
            Raw = options.WrittenMemory,
            Payload = m.Payload,
        };
        var sent = backplane.SendAsync(message);
        if (!sent.IsCompletedSuccessfully)
            sent.ContinueWith(t =>
            {
                lock (Lock)
                {
                    if (!IsActive(invocation)) return;
                    End(invocation);
                    caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampBackplaneErrors.Unavailable,
                        $"the call to '{RouterFrames.Quote(uri)}' could not be handed to the backplane ({t.Exception?.GetBaseException().Message})"));
                }
            }, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return true;
    }

    /// <summary>Reads a frame this router wrote for a stand-in session (one it cannot read is not forwarded).</summary>
    private static bool TryParseOwnFrame(WampFrame frame, out WampMessage message)
    {
        try
        {
            message = WampMessageParser.Parse(frame.Memory);
            return true;
        }
        catch (WampProtocolException)
        {
            message = default;
            return false;
        }
    }

    /// <summary>What the dealer sends a remote callee's stand-in: only INTERRUPT (cancel, caller left) matters; it becomes a Cancel.</summary>
    private void ForwardToCallee(long node, WampFrame frame)
    {
        if (Backplane is not { } backplane) return;
        if (!TryParseOwnFrame(frame, out var m)) return;
        if (m.Type != WampMessageType.Interrupt || !backplane.IsAvailable) return;
        Broadcast(backplane, new BackplaneMessage
        {
            Kind = BackplaneKind.Cancel, From = backplane.NodeId, To = node, Realm = Name, Id = m.Id1, Text = m.Dict.GetString("mode"u8) ?? "killnowait",
        });
    }

    /// <summary>A call from another node for a callee of this one.</summary>
    private void OnRemoteCall(BackplaneMessage message)
    {
        var key = (message.From, message.Session);
        if (!_remoteCallers.TryGetValue(key, out var caller))
        {
            long node = message.From;
            caller = RouterSession.Remote(node, message.Session, message.AuthId ?? "", message.AuthRole ?? "", f => ForwardToCaller(node, f), Options, router.Log);
            // Its calls' time limits expire through the realm of their caller.
            caller.Realm = this;
            _remoteCallers.Add(key, caller);
        }
        long callId = message.Id;
        if (caller.Calls.ContainsKey(callId)) return;
        string uri = message.Uri ?? "";
        var registration = Route(uri);
        int at = registration is null || !_sessions.TryGetValue(message.Target, out var target) ? -1 : registration.Callees.FindIndex(c => c.Session == target);
        if (at < 0)
        {
            caller.Send(RouterFrames.Error(WampMessageType.Call, callId, WampUris.NoSuchProcedure,
                $"the callee chosen for '{RouterFrames.Quote(uri)}' no longer holds it"));
            return;
        }
        var callee = registration!.Callees[at].Session;
        if (callee.Invocations.Count >= Options.MaxPendingInvocationsPerCallee)
        {
            caller.Send(RouterFrames.Error(WampMessageType.Call, callId, WampUris.NoAvailableCallee,
                $"the callee of '{RouterFrames.Quote(uri)}' already has {callee.Invocations.Count} calls in flight (limit {Options.MaxPendingInvocationsPerCallee})"));
            return;
        }
        var options = new WampDict(message.Raw);
        long? timeoutMs = options.GetInt64("timeout"u8);
        _callsFromNodes[(message.From, callId)] = caller;
        StartInvocation(caller, callId, options, message.Payload, registration, callee, uri, message.Flag,
            options.GetBool("receive_progress"u8), timeoutMs, TimeLimit.FromWireMilliseconds(timeoutMs) ?? TimeSpan.Zero);
    }

    /// <summary>What the dealer sends a remote caller's stand-in (RESULT, ERROR) goes back to the caller's node.</summary>
    private void ForwardToCaller(long node, WampFrame frame)
    {
        if (Backplane is not { } backplane) return;
        if (!TryParseOwnFrame(frame, out var m)) return;
        long callId = m.Type == WampMessageType.Error ? m.Id2 : m.Id1;
        bool final = m.Type == WampMessageType.Error || !m.Dict.GetBool("progress"u8);
        if (final && _callsFromNodes.Remove((node, callId), out var caller) && caller.Calls.Count == 0)
            _remoteCallers.Remove((node, caller.Id));
        if (!backplane.IsAvailable) return;
        Broadcast(backplane, new BackplaneMessage
        {
            Kind = BackplaneKind.Answer, From = backplane.NodeId, To = node, Realm = Name, Id = callId, Raw = frame.Memory.ToArray(),
        });
    }

    /// <summary>A RESULT or ERROR from another node for a call of this node's session.</summary>
    private void OnRemoteAnswer(BackplaneMessage message)
    {
        if (!_remoteCalls.TryGetValue(message.Id, out var invocation) || invocation.Callee.RemoteNode != message.From) return;
        var m = WampMessageParser.Parse(message.Raw);
        if (m.Type == WampMessageType.Result && m.Dict.GetBool("progress"u8))
        {
            if (invocation.CallerWantsProgress) invocation.Caller.Send(RouterFrames.Result(invocation.CallRequestId, m.Payload, progress: true));
            return;
        }
        End(invocation);
        ForgetIfIdle(invocation.Callee);
        if (m.Type == WampMessageType.Result)
            invocation.Caller.Send(RouterFrames.Result(invocation.CallRequestId, m.Payload, progress: false));
        else if (m.Type == WampMessageType.Error && m.Uri is not null && WampUris.IsValidLoose(m.Uri))
            invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, m.Uri, m.Payload, WampDict.Empty));
    }

    /// <summary>A CANCEL (or its caller left) for a call of another node running here.</summary>
    private void OnRemoteCancel(BackplaneMessage message)
    {
        if (!_callsFromNodes.TryGetValue((message.From, message.Id), out var caller)) return;
        byte[] options = message.Text switch
        {
            "skip" => """{"mode":"skip"}"""u8.ToArray(),
            "kill" => """{"mode":"kill"}"""u8.ToArray(),
            _ => """{"mode":"killnowait"}"""u8.ToArray(),
        };
        OnCancel(caller, new WampMessage { Type = WampMessageType.Cancel, Id1 = message.Id, Dict = new WampDict(options) });
    }

    // ---- Nodes and availability ----

    /// <summary>A node died: its callees' calls fail, its callers' calls are interrupted, its registrations go.</summary>
    public void OnNodeLost(long node, TimeSpan bound)
    {
        foreach (var callee in _remoteCallees.Values.Where(s => s.RemoteNode == node).ToArray())
        {
            foreach (var invocation in callee.Invocations.Values.ToArray())
            {
                End(invocation);
                // wamp.error.canceled, as for a callee that left: callers retry it when the call is safe to repeat.
                invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampUris.Canceled,
                    $"the router node of the callee of '{invocation.Procedure}' stopped answering (no heartbeat within {bound.TotalMilliseconds:0} ms)"));
            }
            foreach (var registration in callee.Registrations.ToArray()) RemoveCallee(callee, registration);
            _remoteCallees.Remove((node, callee.Id));
        }
        DropRemoteCallers(s => s.RemoteNode == node);
    }

    /// <summary>
    /// The backplane went away: answers may be lost, so calls crossing it fail now (never hang), and calls of other
    /// nodes are interrupted. The copy of other nodes' registrations stays, so calls to them get a clear error.
    /// </summary>
    public void OnBackplaneLost()
    {
        foreach (var invocation in _remoteCalls.Values.ToArray())
        {
            End(invocation);
            invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampBackplaneErrors.Unavailable,
                $"the backplane became unreachable while '{invocation.Procedure}' ran on another node; its answer cannot arrive"));
        }
        DropRemoteCallers(static _ => true);
    }

    /// <summary>The backplane is back: the copy of other nodes' registrations is rebuilt from what they send again.</summary>
    public void OnBackplaneRestored()
    {
        foreach (var callee in _remoteCallees.Values.ToArray())
        {
            foreach (var registration in callee.Registrations.ToArray()) RemoveCallee(callee, registration);
            ForgetIfIdle(callee);
        }
    }

    private void DropRemoteCallers(Func<RouterSession, bool> which)
    {
        foreach (var caller in _remoteCallers.Values.Where(which).ToArray())
        {
            _remoteCallers.Remove((caller.RemoteNode, caller.Id));
            LeaveDealer(caller);
        }
        foreach (var key in _callsFromNodes.Keys.ToArray())
            if (!_remoteCallers.ContainsKey((key.Node, _callsFromNodes[key].Id))) _callsFromNodes.Remove(key);
    }

    /// <summary>Routes one message of another node (under the lock).</summary>
    public void OnBackplaneMessage(BackplaneMessage message)
    {
        switch (message.Kind)
        {
            case BackplaneKind.Event: OnRemoteEvent(message); break;
            case BackplaneKind.Call: OnRemoteCall(message); break;
            case BackplaneKind.Answer: OnRemoteAnswer(message); break;
            case BackplaneKind.Cancel: OnRemoteCancel(message); break;
            case BackplaneKind.Registration: OnRemoteRegistration(message); break;
        }
    }
}
