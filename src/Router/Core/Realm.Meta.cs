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
            default:
                caller.Send(RouterFrames.Error(WampMessageType.Call, requestId, WampUris.NoSuchProcedure, $"the router has no meta procedure '{RouterFrames.Quote(m.Uri)}'"));
                break;
        }
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
