using System.Text.RegularExpressions;
using Microsoft.Extensions.Primitives;

namespace WampContracts.Router;

/// <summary>
/// Which <c>Origin</c>s may open a WebSocket to the router (<see cref="WampRouterOptions.AllowedOrigins"/>,
/// <see cref="WampRouterOptions.AllowMissingOrigin"/>). A browser sends the page's origin with every WebSocket
/// upgrade and lets any page connect anywhere, so without a list any web page a user visits can use the user's
/// network position (and cookies) to reach the router.
/// </summary>
internal sealed partial class OriginPolicy
{
    private readonly HashSet<string>? _allowed;
    private readonly bool _allowMissing;

    /// <exception cref="ArgumentException">An entry is not an origin as browsers send it.</exception>
    public OriginPolicy(IReadOnlyList<string>? allowedOrigins, bool allowMissing)
    {
        _allowMissing = allowMissing;
        if (allowedOrigins is null) return;
        _allowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string origin in allowedOrigins)
        {
            // A path, a trailing slash or a pattern would silently match nothing a browser sends: say so at start.
            if (origin is null || (origin != "null" && !SerializedOrigin().IsMatch(origin)))
                throw new ArgumentException(
                    $"AllowedOrigins entry '{origin}' is not an origin as a browser sends it: write scheme://host[:port] with no path or trailing slash " +
                    "(e.g. 'https://app.example.com'), or 'null'.", nameof(allowedOrigins));
            _allowed.Add(origin);
        }
    }

    /// <summary>Null if a request with these <c>Origin</c> header values may upgrade; otherwise why not, for the log.</summary>
    public string? Refusal(StringValues origin)
    {
        if (origin.Count == 0)
            return _allowMissing ? null : "the upgrade request has no Origin header and AllowMissingOrigin is false";
        if (_allowed is null) return null;
        if (origin.Count > 1)
            return "the upgrade request has more than one Origin header";
        string value = origin[0] ?? "";
        return _allowed.Contains(value) ? null : $"origin '{Shorten(value)}' is not in AllowedOrigins";
    }

    private static string Shorten(string value) => value.Length <= 200 ? value : value[..200] + "…";

    // scheme "://" host [":" port], as RFC 6454 serializes an origin; custom schemes (capacitor://, app://) and file:// included.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9+.\-]*://[^/?#@\s*]*$")]
    private static partial Regex SerializedOrigin();
}
