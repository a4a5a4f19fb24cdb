using WampContracts.Protocol;
using WampContracts.Router.Core;

namespace WampContracts.Router.Tests;

/// <summary>
/// The rule engine against a plain reference over a small universe of URIs (components <c>a</c>, <c>b</c>,
/// <c>ab</c>, <c>wamp</c>; one to four of them): the decision for each URI is the reference's, and a pattern
/// registration or subscription allowed never matches a URI its role could not use on its own.
/// </summary>
public class AuthorizationRulesUnitTests
{
    private static readonly string[] Components = ["a", "b", "ab", "wamp"];

    private static readonly string[] Universe = Words(4).ToArray();

    // "wamp" alone is reserved, yet no call or event can carry it (nobody may publish or register it): decisions skip it.
    private const string Unreachable = "wamp";

    private static IEnumerable<string> Words(int maxComponents)
    {
        IEnumerable<string> level = Components;
        for (int n = 1; n <= maxComponents; n++)
        {
            foreach (string w in level) yield return w;
            level = level.SelectMany(w => Components.Select(c => w + "." + c)).ToArray();
        }
    }

    /// <summary>Patterns of up to three components (so a URI of the universe shows every overlap).</summary>
    private static readonly (string Uri, WampMatch Match)[] Patterns = BuildPatterns();

    private static (string, WampMatch)[] BuildPatterns()
    {
        var set = new HashSet<(string, WampMatch)>();
        foreach (string uri in Words(3))
        {
            set.Add((uri, WampMatch.Exact));
            for (int i = 1; i <= uri.Length; i++) set.Add((uri[..i], WampMatch.Prefix));
            set.Add((uri + ".", WampMatch.Prefix));
            var parts = uri.Split('.');
            for (int mask = 1; mask < 1 << parts.Length; mask++)
                set.Add((string.Join('.', parts.Select((p, k) => (mask & (1 << k)) != 0 ? "" : p)), WampMatch.Wildcard));
        }
        return [.. set.OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2)];
    }

    private static readonly Dictionary<(string, WampMatch), string[]> MatchedBy =
        Patterns.ToDictionary(p => p, p => Universe.Where(u => UriPatterns.Matches(p.Uri, p.Match, u)).ToArray());

    private static readonly Dictionary<(string, WampMatch), HashSet<string>> MatchedSet =
        MatchedBy.ToDictionary(e => e.Key, e => new HashSet<string>(e.Value, StringComparer.Ordinal));

    /// <summary>The reference: among the rules (of the URI's namespace) that match, exact wins, then the most specific wildcard, then the longest prefix.</summary>
    private static bool ReferenceAllows(List<WampPermission> rules, string uri)
    {
        bool reserved = WampUris.IsReserved(uri);
        var matching = rules.Where(r => WampUris.IsReserved(r.Uri) == reserved && Matches(r, uri)).ToList();
        var winner = matching.FirstOrDefault(r => r.Match == WampMatch.Exact)
            ?? matching.Where(r => r.Match == WampMatch.Wildcard).OrderByDescending(r => r.Uri, Comparer<string>.Create(UriMatching.CompareWildcardSpecificity)).FirstOrDefault()
            ?? matching.Where(r => r.Match == WampMatch.Prefix).OrderByDescending(r => r.Uri.Length).FirstOrDefault();
        return winner?.Subscribe == true;

        static bool Matches(WampPermission r, string uri) => r.Match switch
        {
            WampMatch.Prefix => UriMatching.MatchesPrefix(r.Uri, uri),
            WampMatch.Wildcard => UriMatching.MatchesWildcard(r.Uri, uri),
            _ => r.Uri == uri,
        };
    }

    [Fact]
    public void Decisions_match_the_reference_and_allowed_patterns_never_reach_a_refused_uri()
    {
        var random = new Random(20240611);
        int allowedPatterns = 0;
        for (int role = 0; role < 150; role++)
        {
            var rules = new RoleRules(null);
            var permissions = new List<WampPermission>();
            int count = random.Next(1, 6);
            for (int i = 0; i < count; i++)
            {
                var (uri, match) = Patterns[random.Next(Patterns.Length)];
                if (match == WampMatch.Prefix && random.Next(8) == 0) uri = "";
                var permission = new WampPermission(uri, match) { Subscribe = random.Next(10) < 7 };
                if (rules.Add(permission, i)) permissions.Add(permission);
            }
            string described = string.Join(", ", permissions.Select(p => $"{p.Match} '{p.Uri}' {(p.Subscribe ? "allow" : "deny")}"));

            var allowed = new HashSet<string>(StringComparer.Ordinal);
            foreach (string uri in Universe.Where(u => u != Unreachable))
            {
                bool decided = rules.Decide(WampAction.Subscribe, uri, WampMatch.Exact).Allow;
                Assert.True(decided == ReferenceAllows(permissions, uri), $"{uri} with [{described}]: engine {decided}");
                if (decided) allowed.Add(uri);
            }
            foreach (var pattern in Patterns)
            {
                if (pattern.Match == WampMatch.Exact || !rules.Decide(WampAction.Subscribe, pattern.Uri, pattern.Match).Allow) continue;
                allowedPatterns++;
                foreach (string uri in MatchedBy[pattern].Where(u => u != Unreachable))
                    Assert.True(allowed.Contains(uri), $"{pattern.Match} '{pattern.Uri}' allowed, but it matches '{uri}', which is not, with [{described}]");
            }
        }
        Assert.True(allowedPatterns > 500, $"only {allowedPatterns} patterns were allowed: the check proves little");
    }

    [Fact]
    public void Overlap_and_wildcard_relations_agree_with_the_universe()
    {
        foreach (var a in Patterns)
        {
            var matchedByA = MatchedBy[a];
            foreach (var b in Patterns)
            {
                if (a.Match == WampMatch.Exact && b.Match == WampMatch.Exact) continue;
                var matchedByB = MatchedSet[b];
                bool overlaps = matchedByA.Any(matchedByB.Contains);
                Assert.True(overlaps == UriPatterns.Overlaps(a.Uri, a.Match, b.Uri, b.Match), $"{a} and {b}: overlap {overlaps}");
                if (a.Match == WampMatch.Wildcard && b.Match == WampMatch.Wildcard)
                {
                    bool covers = MatchedBy[b].All(u => UriPatterns.Matches(a.Uri, a.Match, u));
                    Assert.True(covers == UriPatterns.WildcardCovers(a.Uri, b.Uri), $"{a} covers {b}: {covers}");
                }
            }
        }
    }
}
