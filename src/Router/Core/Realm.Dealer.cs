using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    private readonly UriIndex<Registration> _registrations = new();

    // One timer mechanism for every call's limit in the realm: no timer per call.
    private readonly CallTimers _timers = new(router.Options.TimeProvider) { OnExpiryFailed = e => router.Log.CallTimerFailed(e, name) };

    private void OnRegister(RouterSession session, in WampMessage m, AuthorizerAnswer? answer)
    {
        long requestId = m.Id1;
        var match = ParseMatch(m.Dict);
        string? invokeText = m.Dict.GetString("invoke"u8);
        WampInvokePolicy? invoke = invokeText switch
        {
            null or "single" => WampInvokePolicy.Single,
            "roundrobin" => WampInvokePolicy.RoundRobin,
            "random" => WampInvokePolicy.Random,
            "first" => WampInvokePolicy.First,
            "last" => WampInvokePolicy.Last,
            _ => null,
        };
        if (invoke is null || !IsKnownMatch(m.Dict))
        {
            session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampUris.InvalidArgument,
                $"unknown {(invoke is null ? $"invoke policy '{invokeText}'" : $"match policy '{m.Dict.GetString("match"u8)}'")}"));
            return;
        }
        if (!CheckUri(session, WampMessageType.Register, requestId, m.Uri, match)) return;
        string uri = m.Uri!;
        if (!Authorize(session, WampAction.Register, WampMessageType.Register, requestId, uri, match, answer, out _)) return;

        if (!CanRegister(session, requestId, uri, match, invoke.Value)) return;
        bool discloseCaller = m.Dict.GetBool("disclose_caller"u8);
        // With a backplane, the first callee of a procedure on this node claims it across nodes first.
        if (Backplane is { } backplane && !HasLocalCallee(_registrations.Find(uri, match)))
        {
            RegisterAcrossNodes(backplane, session, requestId, uri, match, invoke.Value, discloseCaller);
            return;
        }
        AddCallee(session, requestId, uri, match, invoke.Value, discloseCaller);
    }

    /// <summary>Whether the session may become a callee of the URI (policies, shared role, its limit); otherwise answers ERROR.</summary>
    private bool CanRegister(RouterSession session, long requestId, string uri, WampMatch match, WampInvokePolicy invoke)
    {
        var registration = _registrations.Find(uri, match);
        if (registration is not null)
        {
            if (registration.Invoke == WampInvokePolicy.Single || invoke == WampInvokePolicy.Single || registration.Callees.Exists(c => c.Session == session))
            {
                session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampUris.ProcedureAlreadyExists, $"procedure '{RouterFrames.Quote(uri)}' is already registered"));
                return false;
            }
            if (registration.Invoke != invoke)
            {
                session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampUris.ProcedureExistsWithDifferentInvocationPolicy,
                    $"procedure '{RouterFrames.Quote(uri)}' is registered with invoke policy '{registration.Invoke.ToString().ToLowerInvariant()}'"));
                return false;
            }
            // In a configured realm a shared registration is shared within one role: a session of another role that
            // may register the URI still cannot join the callees of this one (and so receive a share of its calls).
            if (Authorization is not null && registration.AuthRole != session.AuthRole)
            {
                router.Log.ActionDenied(session.Id, session.AuthRole, "join the shared registration of", uri);
                session.Send(RouterFrames.Error(WampMessageType.Register, requestId, WampUris.NotAuthorized,
                    $"authrole '{session.AuthRole}' is not authorized to join the shared registration of '{RouterFrames.Quote(uri)}', which belongs to authrole '{registration.AuthRole}'"));
                return false;
            }
        }
        return WithinSessionLimit(session, WampMessageType.Register, requestId, session.Registrations.Count, Options.MaxRegistrationsPerSession,
            nameof(WampRouterOptions.MaxRegistrationsPerSession));
    }

    private void AddCallee(RouterSession session, long requestId, string uri, WampMatch match, WampInvokePolicy invoke, bool discloseCaller)
    {
        var registration = _registrations.Find(uri, match);
        if (registration is null)
        {
            registration = new Registration { Id = router.NextId(), Uri = uri, Match = match, Invoke = invoke, AuthRole = session.AuthRole };
            _registrations.Add(registration);
        }
        registration.Callees.Add((session, discloseCaller));
        session.Registrations.Add(registration);
        session.Send(RouterFrames.Ack(WampMessageType.Registered, requestId, registration.Id));
        if (Backplane is { } backplane) AnnounceRegistration(backplane, session, registration, discloseCaller, added: true);
    }

    private static bool IsKnownMatch(WampDict options) =>
        options.GetString("match"u8) is null or "exact" or "prefix" or "wildcard";

    private void OnUnregister(RouterSession session, in WampMessage m)
    {
        if (!_registrations.TryGet(m.Id2, out var registration) || !session.Registrations.Contains(registration))
        {
            session.Send(RouterFrames.Error(WampMessageType.Unregister, m.Id1, WampUris.NoSuchRegistration, $"no registration {m.Id2} of this session"));
            return;
        }
        RemoveCallee(session, registration);
        session.Send(RouterFrames.Ack(WampMessageType.Unregistered, m.Id1));
    }

    private void RemoveCallee(RouterSession session, Registration registration)
    {
        registration.Callees.RemoveAll(c => c.Session == session);
        session.Registrations.Remove(registration);
        if (registration.Callees.Count == 0) _registrations.Remove(registration);
        if (Backplane is { } backplane && session.RemoteNode == 0)
        {
            AnnounceRegistration(backplane, session, registration, discloseCaller: false, added: false);
            if (!HasLocalCallee(registration))
                _ = ReleaseClaimAsync(backplane, ClaimKey(Name, registration.Uri, registration.Match), ClaimPolicy(registration.Invoke, registration.AuthRole));
        }
    }

    /// <summary>Picks the one registration a call goes to: exact, else longest prefix, else most specific wildcard.</summary>
    private Registration? Route(string uri) =>
        _registrations.Exact(uri) ?? _registrations.LongestPrefix(uri) ?? _registrations.MostSpecificWildcard(uri);

    private static (RouterSession Session, bool DiscloseCaller) PickCallee(Registration registration)
    {
        var callees = registration.Callees;
        switch (registration.Invoke)
        {
            case WampInvokePolicy.RoundRobin:
                int i = registration.NextRoundRobin % callees.Count;
                registration.NextRoundRobin = i + 1;
                return callees[i];
            case WampInvokePolicy.Random:
                return callees[Random.Shared.Next(callees.Count)];
            case WampInvokePolicy.Last:
                return callees[^1];
            default:
                return callees[0];
        }
    }

    private bool OnCall(RouterSession caller, in WampMessage m, AuthorizerAnswer? answer)
    {
        long requestId = m.Id1;
        if (caller.Calls.ContainsKey(requestId)) return Violation(caller, $"CALL reuses request id {requestId} of a call still running");
        string? uri = m.Uri;
        if (uri is not null && WampUris.IsReserved(uri))
        {
            if (Authorize(caller, WampAction.Call, WampMessageType.Call, requestId, uri, WampMatch.Exact, answer, out _)) OnMetaCall(caller, m);
            return true;
        }
        if (!CheckUri(caller, WampMessageType.Call, requestId, uri)) return true;
        if (!Authorize(caller, WampAction.Call, WampMessageType.Call, requestId, uri!, WampMatch.Exact, answer, out bool discloseByRule)) return true;

        long? timeoutMs = null;
        if (m.Dict.TryFind("timeout"u8, out var timeoutReader))
        {
            // Any non-negative integer is accepted (a limit past what a timer holds is kept as a far-off due time);
            // a negative, fractional or non-numeric value is refused for this call only.
            if (timeoutReader.TokenType != JsonTokenType.Number || !timeoutReader.TryGetInt64(out long ms) || ms < 0)
            {
                caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.InvalidArgument, "CALL.Options.timeout must be a non-negative integer (milliseconds)"));
                return true;
            }
            timeoutMs = ms;
        }

        var registration = Route(uri!);
        if (registration is null)
        {
            caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoSuchProcedure, $"no callee registered procedure '{RouterFrames.Quote(uri)}'"));
            return true;
        }
        var (callee, calleeAsksDisclosure) = PickCallee(registration);
        // An open realm discloses the caller when the caller or the callee asks; a configured one when the caller's
        // rule says so (disclose caller), whatever either asks, as Crossbar.io does.
        bool discloseCaller = Authorization is null ? calleeAsksDisclosure || m.Dict.GetBool("disclose_me"u8) : discloseByRule;
        if (callee.Invocations.Count >= Options.MaxPendingInvocationsPerCallee)
        {
            caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoAvailableCallee,
                $"the callee of '{RouterFrames.Quote(uri)}' already has {callee.Invocations.Count} calls in flight (limit {Options.MaxPendingInvocationsPerCallee})"));
            return true;
        }

        bool wantsProgress = m.Dict.GetBool("receive_progress"u8);
        var timeout = TimeLimit.FromWireMilliseconds(timeoutMs) ?? TimeSpan.Zero;
        if (callee.RemoteNode != 0) return CallAcrossNodes(caller, m, uri!, callee, discloseCaller, wantsProgress, timeoutMs, timeout);
        StartInvocation(caller, requestId, m.Dict, m.Payload, registration, callee, uri!, discloseCaller, wantsProgress, timeoutMs, timeout);
        return true;
    }

    /// <summary>Sends the INVOCATION for a call and tracks it until its answer, cancel, timeout or a leave.</summary>
    private void StartInvocation(RouterSession caller, long requestId, WampDict callOptions, WampPayload payload, Registration registration,
        RouterSession callee, string uri, bool discloseCaller, bool wantsProgress, long? timeoutMs, TimeSpan timeout)
    {
        var invocation = new Invocation
        {
            Caller = caller,
            CallRequestId = requestId,
            Callee = callee,
            InvocationId = callee.NextInvocationId(),
            Procedure = uri,
            CallerWantsProgress = wantsProgress,
            Timeout = timeout,
        };
        caller.Calls.Add(requestId, invocation);
        callee.Invocations.Add(invocation.InvocationId, invocation);

        // The limit runs from before the INVOCATION leaves (a send may reach the callee at once); its expiry takes this
        // realm's lock, so it cannot act before the send below.
        if (timeout > TimeSpan.Zero) _timers.Schedule(invocation, timeout);
        var w = WampFrameWriter.Start(WampMessageType.Invocation).Id(invocation.InvocationId).Id(registration.Id);
        WriteInvocationDetails(w.Json, callOptions, caller, callee, registration, uri, discloseCaller, wantsProgress, timeoutMs);
        callee.Send(w.Payload(payload).ToFrame());
    }

    private static void WriteInvocationDetails(Utf8JsonWriter w, WampDict callOptions, RouterSession caller, RouterSession callee,
        Registration registration, string uri, bool discloseCaller, bool wantsProgress, long? timeoutMs)
    {
        w.WriteStartObject();
        if (discloseCaller)
        {
            w.WriteNumber("caller"u8, caller.Id);
            w.WriteString("caller_authid"u8, caller.AuthId);
            w.WriteString("caller_authrole"u8, caller.AuthRole);
        }
        if (registration.Match != WampMatch.Exact) w.WriteString("procedure"u8, uri);
        if (wantsProgress && callee.CalleeProgressiveResults) w.WriteBoolean("receive_progress"u8, true);
        if (timeoutMs is > 0 && callee.CalleeCallTimeout) w.WriteNumber("timeout"u8, timeoutMs.Value);
        // Custom x_ options travel to the callee untouched (deadline and idempotency metadata use them).
        callOptions.WriteCustomOptions(w);
        w.WriteEndObject();
    }

    /// <summary>The call's limit passed (called by the realm's <see cref="CallTimers"/>, outside its lock).</summary>
    internal void OnCallTimeout(Invocation invocation)
    {
        lock (Lock)
        {
            if (!IsActive(invocation)) return;
            // Dealer-enforced timeout: like a killnowait cancel without a CANCEL message.
            End(invocation);
            invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampUris.Timeout,
                $"'{invocation.Procedure}' did not answer within {invocation.Timeout.TotalMilliseconds:0} ms"));
            if (invocation.Callee.CalleeCallCanceling)
                invocation.Callee.Send(RouterFrames.Interrupt(invocation.InvocationId, "killnowait", WampUris.Timeout));
        }
    }

    private static bool IsActive(Invocation invocation) =>
        invocation.Caller.Calls.TryGetValue(invocation.CallRequestId, out var current) && ReferenceEquals(current, invocation);

    /// <summary>Forgets the call on both sides; a late answer from the callee is then dropped.</summary>
    private void End(Invocation invocation)
    {
        _timers.Cancel(invocation);
        invocation.Caller.Calls.Remove(invocation.CallRequestId);
        invocation.Callee.Invocations.Remove(invocation.InvocationId);
        if (invocation.Callee.RemoteNode != 0) _remoteCalls.Remove(invocation.InvocationId);
    }

    private void OnCancel(RouterSession caller, in WampMessage m)
    {
        // CANCEL of a call that finished or never existed is ignored.
        if (!caller.Calls.TryGetValue(m.Id1, out var invocation)) return;
        string mode = m.Dict.GetString("mode"u8) ?? "killnowait"; // no mode: what Crossbar does for Autobahn|Python
        if (mode is not ("skip" or "kill" or "killnowait")) mode = "killnowait";
        if (!invocation.Callee.CalleeCallCanceling) mode = "skip";

        if (mode == "kill")
        {
            // The callee's answer (normally wamp.error.canceled) goes to the caller as usual.
            if (invocation.KillRequested) return;
            invocation.KillRequested = true;
            invocation.Callee.Send(RouterFrames.Interrupt(invocation.InvocationId, "kill"));
            return;
        }
        End(invocation);
        caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampUris.Canceled, $"the call to '{invocation.Procedure}' was canceled ({mode})"));
        if (mode == "killnowait")
            invocation.Callee.Send(RouterFrames.Interrupt(invocation.InvocationId, "killnowait"));
    }

    private bool OnYield(RouterSession callee, in WampMessage m)
    {
        if (!callee.Invocations.TryGetValue(m.Id1, out var invocation))
            return LateAnswer(callee, m.Id1, "YIELD");
        if (m.Dict.GetBool("progress"u8))
        {
            // A caller that asked for progress gets it, and its limit covers each gap between results (the
            // protocol's rule); for any other caller the limit covers the whole call.
            if (invocation.CallerWantsProgress)
            {
                invocation.Caller.Send(RouterFrames.Result(invocation.CallRequestId, m.Payload, progress: true));
                if (invocation.Timeout > TimeSpan.Zero) _timers.Schedule(invocation, invocation.Timeout);
            }
            return true;
        }
        End(invocation);
        invocation.Caller.Send(RouterFrames.Result(invocation.CallRequestId, m.Payload, progress: false));
        return true;
    }

    private bool OnCalleeError(RouterSession callee, in WampMessage m)
    {
        if (!callee.Invocations.TryGetValue(m.Id2, out var invocation))
            return LateAnswer(callee, m.Id2, "ERROR");
        if (m.Uri is null || !WampUris.IsValidLoose(m.Uri))
            return Violation(callee, $"ERROR with invalid URI '{RouterFrames.Quote(m.Uri)}'");
        End(invocation);
        // The callee's URI and payload reach the caller unchanged.
        invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, m.Uri, m.Payload, WampDict.Empty));
        return true;
    }

    private bool LateAnswer(RouterSession callee, long invocationId, string what)
    {
        // After a timeout, cancel or caller leave, late answers are expected: drop them. Ids never issued are a violation.
        if (invocationId >= 1 && invocationId <= callee.LastInvocationId) return true;
        return Violation(callee, $"{what} for INVOCATION {invocationId}, which was never sent");
    }

    /// <summary>A callee that leaves fails its invocations for their callers; a caller that leaves has its calls interrupted.</summary>
    private void LeaveDealer(RouterSession session)
    {
        foreach (var invocation in session.Invocations.Values.ToArray())
        {
            End(invocation);
            invocation.Caller.Send(RouterFrames.Error(WampMessageType.Call, invocation.CallRequestId, WampUris.Canceled,
                $"the callee of '{invocation.Procedure}' left before answering"));
        }
        foreach (var invocation in session.Calls.Values.ToArray())
        {
            End(invocation);
            if (invocation.Callee.CalleeCallCanceling)
                invocation.Callee.Send(RouterFrames.Interrupt(invocation.InvocationId, "killnowait"));
        }
        foreach (var registration in session.Registrations.ToArray()) RemoveCallee(session, registration);
    }
}
