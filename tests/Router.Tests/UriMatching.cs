namespace WampContracts.Router.Tests;

/// <summary>
/// WAMP pattern matching (<c>match</c>: prefix, wildcard) written as plainly as possible, one pattern at a time: the
/// reference the router's index is checked against.
/// </summary>
internal static class UriMatching
{
    /// <summary>A prefix pattern matches when it is a string prefix of the URI (so <c>a.b</c> matches <c>a.b.c</c> and <c>a.bc</c>).</summary>
    public static bool MatchesPrefix(string pattern, string uri) => uri.StartsWith(pattern, StringComparison.Ordinal);

    /// <summary>A wildcard pattern has as many components as the URI; each empty component matches any one component.</summary>
    public static bool MatchesWildcard(string pattern, string uri)
    {
        var p = pattern.AsSpan();
        var u = uri.AsSpan();
        while (true)
        {
            int pi = p.IndexOf('.');
            int ui = u.IndexOf('.');
            var pc = pi < 0 ? p : p[..pi];
            var uc = ui < 0 ? u : u[..ui];
            if (!pc.IsEmpty && !pc.SequenceEqual(uc)) return false;
            if (pi < 0 || ui < 0) return pi < 0 && ui < 0;
            p = p[(pi + 1)..];
            u = u[(ui + 1)..];
        }
    }

    /// <summary>
    /// Orders wildcard patterns that match the same URI: the one whose first differing component is literal wins,
    /// which ranks the longest literal run first, then the next run (<c>a1.b2..d4</c> before <c>a1...d4</c>).
    /// </summary>
    public static int CompareWildcardSpecificity(string a, string b)
    {
        var x = a.Split('.');
        var y = b.Split('.');
        for (int i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            bool lx = x[i].Length > 0, ly = y[i].Length > 0;
            if (lx != ly) return lx ? 1 : -1;
        }
        return 0;
    }
}
