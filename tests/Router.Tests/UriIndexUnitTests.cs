using WampContracts.Router.Core;

namespace WampContracts.Router.Tests;

public class UriIndexUnitTests
{
    private sealed record Entry(long Id, string Uri, WampMatch Match) : IUriEntry;

    private struct Collect(List<Entry> into) : IEntryVisitor<Entry>
    {
        public readonly void Visit(Entry entry) => into.Add(entry);
    }

    private static (UriIndex<Entry> Index, Dictionary<string, Entry> ByPattern) Build(params (string Uri, WampMatch Match)[] patterns)
    {
        var index = new UriIndex<Entry>();
        var byPattern = new Dictionary<string, Entry>();
        long id = 1;
        foreach (var (uri, match) in patterns)
        {
            var entry = new Entry(id++, uri, match);
            index.Add(entry);
            byPattern.Add(uri, entry);
        }
        return (index, byPattern);
    }

    private static string[] Matches(UriIndex<Entry> index, string uri)
    {
        var found = new List<Entry>();
        var visitor = new Collect(found);
        index.VisitPatternMatches(uri, ref visitor);
        Assert.Equal(found.Count, found.Distinct().Count()); // each once
        return found.Select(e => e.Uri).Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Prefix_patterns_match_by_string_not_by_component_and_the_longest_wins()
    {
        var (index, _) = Build(("a", WampMatch.Prefix), ("a.b", WampMatch.Prefix), ("a.b.c", WampMatch.Prefix), ("a.bx.", WampMatch.Prefix));

        Assert.Equal(["a", "a.b", "a.b.c"], Matches(index, "a.b.c.d"));
        Assert.Equal(["a", "a.b"], Matches(index, "a.bc"));  // a.b is a string prefix of a.bc
        Assert.Equal(["a", "a.b"], Matches(index, "a.b"));    // a pattern matches its own URI
        Assert.Equal(["a", "a.b", "a.bx."], Matches(index, "a.bx.y"));
        Assert.Equal(["a"], Matches(index, "ab"));
        Assert.Equal(["a", "a.b"], Matches(index, "a.bx"));   // a.bx. needs the dot
        Assert.Empty(Matches(index, "b.a"));

        Assert.Equal("a.b.c", index.LongestPrefix("a.b.c.d")?.Uri);
        Assert.Equal("a.b", index.LongestPrefix("a.bc")?.Uri);
        Assert.Equal("a", index.LongestPrefix("ab")?.Uri);
        Assert.Null(index.LongestPrefix("b"));
        Assert.Null(index.MostSpecificWildcard("a.b.c")); // prefix entries are not wildcard ones
    }

    [Fact]
    public void Wildcard_patterns_need_as_many_components_and_the_most_specific_wins_at_the_first_difference()
    {
        string[] bySpecificity = ["a1.b2.c3.", "a1.b2..d4", "a1...d4", ".b2.c3.d4", "..c3.d4", "..."];
        var (index, byPattern) = Build([.. Enumerable.Reverse(bySpecificity).Select(p => (p, WampMatch.Wildcard)), ("a1.b2", WampMatch.Wildcard), ("a1.b2.c3.d4.", WampMatch.Wildcard)]);

        Assert.Equal(bySpecificity.Order(StringComparer.Ordinal), Matches(index, "a1.b2.c3.d4"));
        Assert.Equal(["...", "..c3.d4", "a1...d4"], Matches(index, "a1.x.c3.d4"));
        Assert.Equal(["a1.b2"], Matches(index, "a1.b2"));
        Assert.Equal(["a1.b2.c3.d4."], Matches(index, "a1.b2.c3.d4.e5"));
        Assert.Empty(Matches(index, "a1.b2.c3.d4.e5.f6"));

        // Each removal hands the call to the next most specific pattern.
        foreach (string expected in bySpecificity)
        {
            Assert.Equal(expected, index.MostSpecificWildcard("a1.b2.c3.d4")?.Uri);
            index.Remove(byPattern[expected]);
        }
        Assert.Null(index.MostSpecificWildcard("a1.b2.c3.d4"));
        Assert.Equal("a1.b2", index.MostSpecificWildcard("a1.b2")?.Uri);
    }

    [Fact]
    public void Find_tells_entries_apart_by_uri_and_policy_and_removal_forgets_only_the_one_removed()
    {
        var (index, _) = Build();
        var exact = new Entry(1, "a.b", WampMatch.Exact);
        var prefix = new Entry(2, "a.b", WampMatch.Prefix);
        var wildcard = new Entry(3, "a.b", WampMatch.Wildcard);
        index.Add(exact);
        index.Add(prefix);
        index.Add(wildcard);
        Assert.Same(exact, index.Find("a.b", WampMatch.Exact));
        Assert.Same(prefix, index.Find("a.b", WampMatch.Prefix));
        Assert.Same(wildcard, index.Find("a.b", WampMatch.Wildcard));
        Assert.Null(index.Find("a.c", WampMatch.Prefix));

        index.Remove(prefix);
        Assert.Null(index.Find("a.b", WampMatch.Prefix));
        Assert.False(index.TryGet(2, out _));
        Assert.Same(exact, index.Exact("a.b"));
        Assert.Equal(["a.b"], Matches(index, "a.b")); // the wildcard one
        Assert.Null(index.LongestPrefix("a.b.c"));

        var again = new Entry(4, "a.b", WampMatch.Prefix);
        index.Add(again);
        Assert.Same(again, index.LongestPrefix("a.b.c"));
        Assert.True(index.TryGet(4, out var byId) && byId == again);

        index.Remove(exact);
        index.Remove(wildcard);
        index.Remove(again);
        Assert.True(index.IsEmpty);
        Assert.Empty(Matches(index, "a.b"));
    }

    /// <summary>
    /// Random patterns over a few short components (so they share prefixes, split and merge tree edges), added and
    /// removed in random order; after each change every lookup agrees with the one-pattern-at-a-time reference.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Lookups_agree_with_the_reference_matching_through_random_adds_and_removals(int seed)
    {
        var random = new Random(seed);
        string[] parts = ["a", "b", "ab", "ba", "abc"];
        string RandomUri(bool wildcard, int maxComponents) => string.Join('.', Enumerable.Range(0, random.Next(1, maxComponents + 1))
            .Select(_ => wildcard && random.Next(3) == 0 ? "" : parts[random.Next(parts.Length)]));
        string RandomPrefix()
        {
            // Whole components, or ending in a dot, or cut inside a component.
            string p = RandomUri(false, 3);
            return random.Next(3) switch { 0 => p + ".", 1 when p.Length > 1 => p[..^1], _ => p };
        }

        var index = new UriIndex<Entry>();
        var live = new Dictionary<(string, WampMatch), Entry>();
        long id = 1;
        for (int step = 0; step < 600; step++)
        {
            var match = random.Next(2) == 0 ? WampMatch.Prefix : WampMatch.Wildcard;
            string pattern = match == WampMatch.Prefix ? RandomPrefix() : RandomUri(true, 4);
            if (live.Count > 0 && random.Next(3) == 0)
                (pattern, match) = live.Keys.ElementAt(random.Next(live.Count)); // remove one that is there
            if (live.Remove((pattern, match), out var existing))
            {
                index.Remove(existing);
                Assert.Null(index.Find(pattern, match));
            }
            else
            {
                var entry = new Entry(id++, pattern, match);
                index.Add(entry);
                live.Add((pattern, match), entry);
                Assert.Same(entry, index.Find(pattern, match));
            }

            for (int probe = 0; probe < 20; probe++)
            {
                string uri = RandomUri(false, 4);
                var prefixes = live.Values.Where(e => e.Match == WampMatch.Prefix && UriMatching.MatchesPrefix(e.Uri, uri)).ToList();
                var wildcards = live.Values.Where(e => e.Match == WampMatch.Wildcard && UriMatching.MatchesWildcard(e.Uri, uri)).ToList();

                var found = new List<Entry>();
                var visitor = new Collect(found);
                index.VisitPatternMatches(uri, ref visitor);
                Assert.Equal(prefixes.Concat(wildcards).Select(e => e.Id).Order(), found.Select(e => e.Id).Order());

                Assert.Equal(prefixes.MaxBy(e => e.Uri.Length), index.LongestPrefix(uri));
                var mostSpecific = wildcards.Count == 0 ? null
                    : wildcards.Aggregate((best, e) => UriMatching.CompareWildcardSpecificity(e.Uri, best.Uri) > 0 ? e : best);
                Assert.Equal(mostSpecific, index.MostSpecificWildcard(uri));
            }
        }
    }
}
