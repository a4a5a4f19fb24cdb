using System.Diagnostics.CodeAnalysis;

namespace WampContracts.Router.Core;

/// <summary>A registration or subscription: an id, a URI and a match policy.</summary>
internal interface IUriEntry
{
    long Id { get; }
    string Uri { get; }
    WampMatch Match { get; }
}

/// <summary>
/// Registrations (or subscriptions) of a realm. An entry is identified by its URI and match policy: each policy has a
/// dictionary by URI, and the patterns are also in a <see cref="PrefixTree{T}"/> and a <see cref="WildcardTree{T}"/>,
/// so matching costs what the URI's length and the matching patterns cost, not the number of patterns, and adding or
/// removing an entry does not scan the others. Guarded by the realm's lock.
/// </summary>
internal sealed class UriIndex<T> where T : class, IUriEntry
{
    private readonly Dictionary<string, T> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, T> _prefix = new(StringComparer.Ordinal);
    private readonly Dictionary<string, T> _wildcard = new(StringComparer.Ordinal);
    private readonly Dictionary<long, T> _byId = new();
    private readonly PrefixTree<T> _prefixTree = new();
    private readonly WildcardTree<T> _wildcardTree = new();

    public bool IsEmpty => _byId.Count == 0;

    public T? Exact(string uri) => _exact.GetValueOrDefault(uri);

    /// <summary>The prefix entry with the longest URI that is a (string) prefix of <paramref name="uri"/>.</summary>
    public T? LongestPrefix(string uri) => _prefix.Count == 0 ? null : _prefixTree.Longest(uri);

    /// <summary>The most specific wildcard entry that matches <paramref name="uri"/> (see <see cref="WildcardTree{T}.MostSpecific"/>).</summary>
    public T? MostSpecificWildcard(string uri) => _wildcard.Count == 0 ? null : _wildcardTree.MostSpecific(uri);

    /// <summary>Visits every prefix and wildcard entry that matches <paramref name="uri"/>, each once.</summary>
    public void VisitPatternMatches<TVisitor>(string uri, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor<T>
    {
        if (_prefix.Count > 0) _prefixTree.VisitMatches(uri, ref visitor);
        if (_wildcard.Count > 0) _wildcardTree.VisitMatches(uri, ref visitor);
    }

    public bool TryGet(long id, [NotNullWhen(true)] out T? entry) => _byId.TryGetValue(id, out entry);

    /// <summary>The entry with this URI and match policy.</summary>
    public T? Find(string uri, WampMatch match) => ByUri(match).GetValueOrDefault(uri);

    public void Add(T entry)
    {
        ByUri(entry.Match).Add(entry.Uri, entry);
        _byId.Add(entry.Id, entry);
        if (entry.Match == WampMatch.Prefix) _prefixTree.Add(entry.Uri, entry);
        else if (entry.Match == WampMatch.Wildcard) _wildcardTree.Add(entry.Uri, entry);
    }

    public void Remove(T entry)
    {
        var byUri = ByUri(entry.Match);
        if (!byUri.TryGetValue(entry.Uri, out var current) || !ReferenceEquals(current, entry)) return;
        byUri.Remove(entry.Uri);
        _byId.Remove(entry.Id);
        if (entry.Match == WampMatch.Prefix) _prefixTree.Remove(entry.Uri);
        else if (entry.Match == WampMatch.Wildcard) _wildcardTree.Remove(entry.Uri);
    }

    private Dictionary<string, T> ByUri(WampMatch match) => match switch
    {
        WampMatch.Prefix => _prefix,
        WampMatch.Wildcard => _wildcard,
        _ => _exact,
    };
}
