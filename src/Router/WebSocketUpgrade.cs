using Microsoft.Extensions.Primitives;
using WampContracts.Router.Core;
using WampContracts.Serialization;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>Why an upgrade request is refused: the HTTP status, a line of text for the peer, and whether to name the WebSocket version spoken.</summary>
internal readonly record struct UpgradeRefusal(int Status, string Text, bool NamesVersion = false);

/// <summary>
/// The router's answer to a WebSocket upgrade request, one decision for both ways in: its own listener
/// (<see cref="WebSocketListener"/>) and an endpoint of an ASP.NET Core application (<see cref="WampRouter.HandleAsync"/>).
/// </summary>
internal static class WebSocketUpgrade
{
    public static UpgradeRefusal NotAnUpgrade =>
        new(426, $"This is a WAMP router: connect with a WebSocket and the subprotocol '{WebSocketTransport.JsonSubprotocol}'.");

    /// <summary>
    /// Null (and the <paramref name="serializer"/> to speak) when the upgrade may go ahead; otherwise why not. The
    /// header values are the request's <c>Sec-WebSocket-Version</c>, <c>Sec-WebSocket-Key</c> (null where none is
    /// sent: an HTTP/2 extended CONNECT), <c>Origin</c> and <c>Sec-WebSocket-Protocol</c>.
    /// </summary>
    public static UpgradeRefusal? Check(RouterCore core, OriginPolicy origins, StringValues version, string? key, StringValues origin,
        StringValues protocols, out WampSerializer serializer)
    {
        serializer = WampSerializer.Json;
        if (version.Count != 1 || version[0] != "13")
            return new UpgradeRefusal(426, "This WAMP router speaks WebSocket version 13 (RFC 6455).", NamesVersion: true);
        if (key is not null && !IsKey(key))
            return new UpgradeRefusal(400, "Sec-WebSocket-Key must be 16 bytes in base64.");
        if (origins.Refusal(origin) is { } refusal)
        {
            // Refused before the upgrade: a page of another origin gets no WebSocket, and no session is created.
            core.Log.ConnectionRefused(refusal);
            return new UpgradeRefusal(403, "This WAMP router does not accept WebSocket connections from this origin.");
        }
        // The first of the client's subprotocols (its order of preference) that the router speaks.
        WampSerializer? chosen = null;
        foreach (var value in protocols)
        {
            foreach (var requested in (value ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (WampSerializer.FromSubprotocol(requested) is { } s && RawSocketListener.Accepts(core.Options, s))
                {
                    chosen = s;
                    break;
                }
            }
            if (chosen is not null) break;
        }
        if (chosen is null)
        {
            var accepted = core.Options.Serializers is { Count: > 0 } list ? list : WampSerializer.All;
            return new UpgradeRefusal(400, $"Unsupported WebSocket subprotocol: this router speaks {string.Join(", ", accepted.Select(a => $"'{a.Subprotocol}'"))}.");
        }
        // Refused before the upgrade, so a flood of connections costs no WebSocket state.
        if (core.AtConnectionLimit)
            return new UpgradeRefusal(503, $"This WAMP router serves at most {core.Options.MaxConnections} connections; try again later.");
        serializer = chosen;
        return null;
    }

    private static bool IsKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out int length) && length == 16;
    }
}
