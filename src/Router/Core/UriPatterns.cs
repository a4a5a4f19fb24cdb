namespace WampContracts.Router.Core;

/// <summary>
/// Relations between URI patterns, for authorizing pattern registrations and subscriptions: whether one pattern
/// matches every URI another matches (covers it), or at least one (overlaps it). A prefix pattern matches by string
/// (<c>a.b</c> matches <c>a.bc</c>); a wildcard pattern has a fixed number of components, an empty one matching any
/// one component.
/// </summary>
internal static class UriPatterns
{
    /// <summary>Whether <paramref name="pattern"/>, matched with <paramref name="match"/>, matches the URI <paramref name="uri"/>.</summary>
    public static bool Matches(string pattern, WampMatch match, string uri) => match switch
    {
        WampMatch.Prefix => uri.StartsWith(pattern, StringComparison.Ordinal),
        WampMatch.Wildcard => WildcardMatches(pattern, uri),
        _ => pattern == uri,
    };

    public static bool WildcardMatches(string pattern, string uri)
    {
        var p = pattern.AsSpan();
        var u = uri.AsSpan();
        while (true)
        {
            int pi = p.IndexOf('.');
            int ui = u.IndexOf('.');
            var pc = pi < 0 ? p : p[..pi];
            var uc = ui < 0 ? u : u[..ui];
            if (uc.IsEmpty || (!pc.IsEmpty && !pc.SequenceEqual(uc))) return false;
            if (pi < 0 || ui < 0) return pi < 0 && ui < 0;
            p = p[(pi + 1)..];
            u = u[(ui + 1)..];
        }
    }

    /// <summary>Whether a wildcard pattern has an empty component (otherwise it matches one URI: itself).</summary>
    public static bool HasWildcard(string pattern) =>
        pattern.Length == 0 || pattern[0] == '.' || pattern[^1] == '.' || pattern.Contains("..", StringComparison.Ordinal);

    /// <summary>
    /// The text every URI a wildcard pattern matches starts with: its components before the first empty one, with the
    /// dot after them (<c>com.bank.</c> for <c>com.bank..x</c>, empty for <c>..x</c>).
    /// </summary>
    public static string LiteralLead(string wildcard)
    {
        if (wildcard.Length == 0 || wildcard[0] == '.') return "";
        int at = wildcard.IndexOf("..", StringComparison.Ordinal);
        if (at >= 0) return wildcard[..(at + 1)];
        return wildcard[^1] == '.' ? wildcard : wildcard + ".";
    }

    /// <summary>Whether the wildcard <paramref name="outer"/> matches every URI the wildcard <paramref name="inner"/> matches.</summary>
    public static bool WildcardCovers(string outer, string inner)
    {
        var o = outer.Split('.');
        var i = inner.Split('.');
        if (o.Length != i.Length) return false;
        for (int k = 0; k < o.Length; k++)
            if (o[k].Length > 0 && o[k] != i[k]) return false;
        return true;
    }

    /// <summary>Whether two wildcard patterns match at least one URI in common.</summary>
    public static bool WildcardsOverlap(string a, string b)
    {
        var x = a.Split('.');
        var y = b.Split('.');
        if (x.Length != y.Length) return false;
        for (int k = 0; k < x.Length; k++)
            if (x[k].Length > 0 && y[k].Length > 0 && x[k] != y[k]) return false;
        return true;
    }

    /// <summary>Whether some URI the wildcard <paramref name="wildcard"/> matches starts with <paramref name="prefix"/>.</summary>
    public static bool PrefixOverlapsWildcard(string prefix, string wildcard)
    {
        var p = prefix.Split('.');
        var w = wildcard.Split('.');
        int last = p.Length - 1; // the prefix's last piece may stop inside a component
        if (last >= w.Length) return false;
        for (int k = 0; k < last; k++)
        {
            if (p[k].Length == 0) return false;
            if (w[k].Length > 0 && w[k] != p[k]) return false;
        }
        return w[last].Length == 0 || w[last].StartsWith(p[last], StringComparison.Ordinal);
    }

    /// <summary>Whether <paramref name="rule"/> matches at least one URI that the pattern (<paramref name="uri"/>, <paramref name="match"/>) matches.</summary>
    public static bool Overlaps(string rule, WampMatch ruleMatch, string uri, WampMatch match) => (ruleMatch, match) switch
    {
        (WampMatch.Exact, _) => Matches(uri, match, rule),
        (_, WampMatch.Exact) => Matches(rule, ruleMatch, uri),
        (WampMatch.Prefix, WampMatch.Prefix) => rule.StartsWith(uri, StringComparison.Ordinal) || uri.StartsWith(rule, StringComparison.Ordinal),
        (WampMatch.Prefix, WampMatch.Wildcard) => PrefixOverlapsWildcard(rule, uri),
        (WampMatch.Wildcard, WampMatch.Prefix) => PrefixOverlapsWildcard(uri, rule),
        _ => WildcardsOverlap(rule, uri),
    };

    /// <summary>
    /// Orders two wildcard patterns that match a URI in common: at the first component where one is literal and the
    /// other empty, the literal one is the more specific (positive when <paramref name="a"/> is).
    /// </summary>
    public static int CompareWildcards(string a, string b)
    {
        var x = a.Split('.');
        var y = b.Split('.');
        for (int k = 0; k < Math.Min(x.Length, y.Length); k++)
        {
            bool lx = x[k].Length > 0, ly = y[k].Length > 0;
            if (lx != ly) return lx ? 1 : -1;
        }
        return 0;
    }
}
