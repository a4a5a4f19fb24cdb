using WampContracts.Protocol;

namespace WampContracts.Router.Core;

/// <summary>
/// One realm: its sessions, dealer and broker state. Every routing decision runs under <see cref="Lock"/>,
/// one realm at a time, so registrations, subscriptions and in-flight calls change atomically; the lock is
/// never held across an await (sending only queues frames).
/// </summary>
internal sealed partial class Realm(string name, RouterCore router)
{
    public string Name { get; } = name;

    /// <summary>The realm's authentication and authorization settings; null for an open realm.</summary>
    public WampRealmOptions? Settings { get; } = router.SettingsOf(name);

    public Lock Lock { get; } = new();

    private readonly Dictionary<long, RouterSession> _sessions = new();

    private WampRouterOptions Options => router.Options;

    public int SessionCount
    {
        get { lock (Lock) return _sessions.Count; }
    }

    /// <summary>Set under <see cref="Lock"/> when the last session left and the router forgot the realm.</summary>
    private bool _removed;

    /// <summary>Adds the session; false when the realm was removed meanwhile (the caller then takes a new one).</summary>
    public bool TryJoin(RouterSession session)
    {
        lock (Lock)
        {
            if (_removed) return false;
            _sessions.Add(session.Id, session);
            session.Realm = this;
            PublishMeta(WampUris.SessionOnJoin, RouterFrames.Build(w => WriteSessionInfo(w, session)));
            return true;
        }
    }

    /// <summary>Removes the session and everything it held: its calls are interrupted, its invocations fail for their callers.</summary>
    public void Leave(RouterSession session)
    {
        lock (Lock)
        {
            if (session.Closed) return;
            session.Closed = true;
            if (!_sessions.Remove(session.Id)) return;
            LeaveDealer(session);
            LeaveBroker(session);
            PublishMeta(WampUris.SessionOnLeave, RouterFrames.Build(w =>
            {
                w.WriteNumberValue(session.Id);
                w.WriteStringValue(session.AuthId);
                w.WriteStringValue(session.AuthRole);
            }));
            if (_sessions.Count == 0 && !HoldsRemoteState)
            {
                // An empty realm holds nothing (every registration and subscription belongs to a session): forget it,
                // so realms created on first use cannot pile up.
                _removed = true;
                _timers.Dispose();
                router.RemoveRealm(this);
            }
        }
    }

    public RouterSession[] SnapshotSessions()
    {
        lock (Lock) return [.. _sessions.Values];
    }

    /// <summary>
    /// Routes one message of an established session (<paramref name="answer"/>: its role's dynamic authorizer's, asked
    /// beforehand by <see cref="AskAuthorizerAsync"/>). Returns false when the session must end (protocol violation).
    /// </summary>
    public bool Handle(RouterSession session, in WampMessage m, AuthorizerAnswer? answer = null)
    {
        lock (Lock)
        {
            if (session.Closed) return false;
            // Request ids start at 1 (the protocol's rule); 0 would collide with the router's own notices.
            if (m.Id1 == 0 && m.Type is WampMessageType.Call or WampMessageType.Register or WampMessageType.Unregister
                    or WampMessageType.Subscribe or WampMessageType.Unsubscribe or WampMessageType.Publish)
                return Violation(session, $"{m.Type} with request id 0");
            switch (m.Type)
            {
                case WampMessageType.Call: return OnCall(session, m, answer);
                case WampMessageType.Cancel: OnCancel(session, m); return true;
                case WampMessageType.Yield: return OnYield(session, m);
                case WampMessageType.Error:
                    if (m.Id1 != (long)WampMessageType.Invocation)
                        return Violation(session, $"ERROR for request type {m.Id1} (a client may only answer INVOCATION with ERROR)");
                    return OnCalleeError(session, m);
                case WampMessageType.Register: OnRegister(session, m, answer); return true;
                case WampMessageType.Unregister: OnUnregister(session, m); return true;
                case WampMessageType.Publish: OnPublish(session, m, answer); return true;
                case WampMessageType.Subscribe: OnSubscribe(session, m, answer); return true;
                case WampMessageType.Unsubscribe: OnUnsubscribe(session, m); return true;
                default:
                    return Violation(session, $"{m.Type} is not a message a client sends in an established session");
            }
        }
    }

    /// <summary>The session broke the protocol: ABORT with the reason, and log it. Returns false (the session ends).</summary>
    public bool Violation(RouterSession session, string message)
    {
        router.Log.ProtocolViolation(session.Id, message);
        session.Send(RouterFrames.Abort(WampUris.ProtocolViolation, message));
        return false;
    }

    private static void WriteSessionInfo(System.Text.Json.Utf8JsonWriter w, RouterSession s)
    {
        w.WriteStartObject();
        w.WriteNumber("session"u8, s.Id);
        w.WriteString("authid"u8, s.AuthId);
        w.WriteString("authrole"u8, s.AuthRole);
        w.WriteString("authmethod"u8, s.AuthMethod);
        w.WriteString("authprovider"u8, s.AuthProvider);
        w.WriteStartObject("transport"u8);
        w.WriteString("type"u8, "websocket");
        w.WriteString("serializer"u8, "json");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>Valid, non-reserved URI for a request; otherwise answers ERROR and returns false.</summary>
    private static bool CheckUri(RouterSession session, WampMessageType requestType, long requestId, string? uri,
        WampMatch match = WampMatch.Exact, bool reply = true)
    {
        bool valid = uri is not null && WampUris.IsValidLoose(uri, allowEmptyComponents: match == WampMatch.Wildcard, allowEmptyLast: match != WampMatch.Exact);
        if (!valid)
        {
            if (reply) session.Send(RouterFrames.Error(requestType, requestId, WampUris.InvalidUri, $"'{RouterFrames.Quote(uri)}' is not a valid URI"));
            return false;
        }
        if (WampUris.IsReserved(uri))
        {
            if (reply) session.Send(RouterFrames.Error(requestType, requestId, WampUris.InvalidUri, $"'{RouterFrames.Quote(uri)}' is reserved: URIs starting with 'wamp.' belong to the protocol"));
            return false;
        }
        return true;
    }

    private static WampMatch ParseMatch(WampDict options) => options.GetString("match"u8) switch
    {
        "prefix" => WampMatch.Prefix,
        "wildcard" => WampMatch.Wildcard,
        _ => WampMatch.Exact,
    };
}
