using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    /// <summary>The session meta API procedures the router answers itself (<c>wamp.session.count</c>, <c>list</c>, <c>get</c>).</summary>
    private void OnMetaCall(RouterSession caller, in WampMessage m)
    {
        long requestId = m.Id1;
        var payload = m.Payload;
        switch (m.Uri)
        {
            case WampUris.SessionCount:
            {
                var roles = AuthRoleFilter(payload);
                int count = _sessions.Values.Count(s => roles is null || roles.Contains(s.AuthRole));
                caller.Send(RouterFrames.Result(requestId, RouterFrames.Build(w => w.WriteNumberValue(count)), progress: false));
                break;
            }
            case WampUris.SessionList:
            {
                var roles = AuthRoleFilter(payload);
                var ids = _sessions.Values.Where(s => roles is null || roles.Contains(s.AuthRole)).Select(s => s.Id).ToArray();
                caller.Send(RouterFrames.Result(requestId, RouterFrames.Build(w =>
                {
                    w.WriteStartArray();
                    foreach (long id in ids) w.WriteNumberValue(id);
                    w.WriteEndArray();
                }), progress: false));
                break;
            }
            case WampUris.SessionGet:
            {
                var first = payload.GetArgumentJson(0);
                long id = 0;
                if (!first.IsEmpty)
                {
                    var r = new Utf8JsonReader(first.Span, WampMessageParser.ReaderOptions);
                    if (r.Read() && r.TokenType == JsonTokenType.Number) r.TryGetInt64(out id);
                }
                if (!_sessions.TryGetValue(id, out var target))
                {
                    caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoSuchSession, $"no session {id} in realm '{Name}'"));
                    break;
                }
                caller.Send(RouterFrames.Result(requestId, RouterFrames.Build(w => WriteSessionInfo(w, target)), progress: false));
                break;
            }
            case RegistrationLookup:
            {
                // [uri, {match}] → the registration's id, or null; registrations of every node count (with a backplane).
                string? uri = StringArgument(payload, 0);
                var match = new WampDict(payload.GetArgumentJson(1)).GetString("match"u8) switch
                {
                    "prefix" => WampMatch.Prefix,
                    "wildcard" => WampMatch.Wildcard,
                    _ => WampMatch.Exact,
                };
                var registration = uri is null ? null : _registrations.Find(uri, match);
                caller.Send(RouterFrames.Result(requestId, RouterFrames.Build(w =>
                {
                    if (registration is null) w.WriteNullValue();
                    else w.WriteNumberValue(registration.Id);
                }), progress: false));
                break;
            }
            case RegistrationListCallees or RegistrationCountCallees:
            {
                var first = payload.GetArgumentJson(0);
                long id = 0;
                if (!first.IsEmpty)
                {
                    var r = new Utf8JsonReader(first.Span, WampMessageParser.ReaderOptions);
                    if (r.Read() && r.TokenType == JsonTokenType.Number) r.TryGetInt64(out id);
                }
                if (!_registrations.TryGet(id, out var registration))
                {
                    caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoSuchRegistration, $"no registration {id} in realm '{Name}'"));
                    break;
                }
                bool list = m.Uri == RegistrationListCallees;
                var ids = registration.Callees.Select(c => c.Session.Id).ToArray();
                caller.Send(RouterFrames.Result(requestId, RouterFrames.Build(w =>
                {
                    if (!list)
                    {
                        w.WriteNumberValue(ids.Length);
                        return;
                    }
                    w.WriteStartArray();
                    foreach (long callee in ids) w.WriteNumberValue(callee);
                    w.WriteEndArray();
                }), progress: false));
                break;
            }
            default:
                caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoSuchProcedure, $"the router has no meta procedure '{RouterFrames.Quote(m.Uri)}'"));
                break;
        }
    }

    // The registration meta API the router answers (the protocol's names).
    private const string RegistrationLookup = "wamp.registration.lookup";
    private const string RegistrationListCallees = "wamp.registration.list_callees";
    private const string RegistrationCountCallees = "wamp.registration.count_callees";

    private static string? StringArgument(WampPayload payload, int index)
    {
        var raw = payload.GetArgumentJson(index);
        if (raw.IsEmpty) return null;
        var r = new Utf8JsonReader(raw.Span, WampMessageParser.ReaderOptions);
        return r.Read() && r.TokenType == JsonTokenType.String ? r.GetString() : null;
    }

    private static HashSet<string>? AuthRoleFilter(WampPayload payload)
    {
        var first = payload.GetArgumentJson(0);
        if (first.IsEmpty) return null;
        var set = new HashSet<string>(StringComparer.Ordinal);
        var r = new Utf8JsonReader(first.Span, WampMessageParser.ReaderOptions);
        if (!r.Read() || r.TokenType != JsonTokenType.StartArray) return null;
        while (r.Read() && r.TokenType == JsonTokenType.String) set.Add(r.GetString()!);
        return set;
    }
}
