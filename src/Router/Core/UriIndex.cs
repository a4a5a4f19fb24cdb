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
/// Registrations (or subscriptions) of a realm: exact URIs in a dictionary, patterns in a list, all by id.
/// An entry is identified by its URI and match policy. Guarded by the realm's lock.
/// </summary>
internal sealed class UriIndex<T> where T : class, IUriEntry
{
    private readonly Dictionary<string, T> _exact = new(StringComparer.Ordinal);
    private readonly List<T> _patterns = new();
    private readonly Dictionary<long, T> _byId = new();

    /// <summary>Prefix and wildcard entries.</summary>
    public IReadOnlyList<T> Patterns => _patterns;

    public bool IsEmpty => _byId.Count == 0;

    public T? Exact(string uri) => _exact.GetValueOrDefault(uri);

    public bool TryGet(long id, [NotNullWhen(true)] out T? entry) => _byId.TryGetValue(id, out entry);

    /// <summary>The entry with this URI and match policy.</summary>
    public T? Find(string uri, WampMatch match)
    {
        if (match == WampMatch.Exact) return Exact(uri);
        foreach (var e in _patterns)
            if (e.Match == match && e.Uri == uri) return e;
        return null;
    }

    public void Add(T entry)
    {
        _byId.Add(entry.Id, entry);
        if (entry.Match == WampMatch.Exact) _exact.Add(entry.Uri, entry);
        else _patterns.Add(entry);
    }

    public void Remove(T entry)
    {
        _byId.Remove(entry.Id);
        if (entry.Match == WampMatch.Exact) _exact.Remove(entry.Uri);
        else _patterns.Remove(entry);
    }
}
