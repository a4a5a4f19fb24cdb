namespace WampContracts.Router.Core;

/// <summary>
/// Prefix patterns in a radix tree over characters. WAMP prefix matching is by string (<c>a.b</c> matches
/// <c>a.b.c</c> and also <c>a.bc</c>), so the tree branches on characters, not components. Each edge carries a run
/// of characters, so the tree has at most two nodes per pattern, and a lookup walks the URI once from the root,
/// seeing every pattern that is a prefix of it on the way. Guarded by the realm's lock.
/// </summary>
internal sealed class PrefixTree<T> where T : class
{
    private sealed class Node
    {
        // The edge into this node is Source[Start..Start+Length]. Start is also the node's depth in characters, and
        // Source is a pattern at or below this node, so it holds the whole path from the root at the same positions.
        public string Source = "";
        public int Start;
        public int Length;
        public T? Entry;
        public Dictionary<char, Node>? Children;

        public ReadOnlySpan<char> Label => Source.AsSpan(Start, Length);
    }

    // Invariant: every node other than the root has an entry or at least two children.
    private readonly Node _root = new();

    public int Count { get; private set; }

    public void Add(string pattern, T entry)
    {
        var node = _root;
        int pos = 0;
        while (pos < pattern.Length)
        {
            char first = pattern[pos];
            if (node.Children is null || !node.Children.TryGetValue(first, out var child))
            {
                (node.Children ??= new()).Add(first, new Node { Source = pattern, Start = pos, Length = pattern.Length - pos, Entry = entry });
                Count++;
                return;
            }
            int common = child.Label.CommonPrefixLength(pattern.AsSpan(pos));
            if (common < child.Length)
            {
                // The pattern leaves the edge part-way: split it at that point.
                var split = new Node { Source = child.Source, Start = child.Start, Length = common, Children = new() };
                child.Start += common;
                child.Length -= common;
                split.Children.Add(child.Source[child.Start], child);
                node.Children[first] = split;
                child = split;
            }
            node = child;
            pos += common;
        }
        if (node.Entry is not null) throw new InvalidOperationException($"prefix pattern '{pattern}' is already in the tree");
        node.Entry = entry;
        Count++;
    }

    /// <summary>Removes the entry of <paramref name="pattern"/>; false if there is none.</summary>
    public bool Remove(string pattern)
    {
        Node? parent = null;
        var node = _root;
        int pos = 0;
        while (pos < pattern.Length)
        {
            if (node.Children is null || !node.Children.TryGetValue(pattern[pos], out var child) || !pattern.AsSpan(pos).StartsWith(child.Label))
                return false;
            parent = node;
            node = child;
            pos += child.Length;
        }
        if (node.Entry is null) return false;
        node.Entry = null;
        Count--;
        if (parent is null) return true; // the root
        // Keep the invariant: drop a node that leads nowhere, then fold a node left with one child and no entry.
        if (node.Children is not { Count: > 0 })
        {
            parent.Children!.Remove(node.Source[node.Start]);
            if (parent != _root) FoldIfSingle(parent);
        }
        else
        {
            FoldIfSingle(node);
        }
        return true;
    }

    private static void FoldIfSingle(Node node)
    {
        if (node.Entry is not null || node.Children is not { Count: 1 }) return;
        foreach (var only in node.Children.Values)
        {
            // only.Start == node.Start + node.Length, and only.Source holds node's label at the same positions.
            node.Source = only.Source;
            node.Length += only.Length;
            node.Entry = only.Entry;
            node.Children = only.Children;
        }
    }

    /// <summary>The entry of the longest pattern that is a prefix of <paramref name="uri"/>.</summary>
    public T? Longest(string uri)
    {
        T? best = _root.Entry;
        var node = _root;
        int pos = 0;
        while (Next(ref node, uri, ref pos))
            best = node.Entry ?? best;
        return best;
    }

    /// <summary>Visits the entry of every pattern that is a prefix of <paramref name="uri"/>, shortest first.</summary>
    public void VisitMatches<TVisitor>(string uri, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor<T>
    {
        var node = _root;
        int pos = 0;
        if (node.Entry is not null) visitor.Visit(node.Entry);
        while (Next(ref node, uri, ref pos))
            if (node.Entry is not null) visitor.Visit(node.Entry);
    }

    /// <summary>Follows the edge that continues <paramref name="uri"/> at <paramref name="pos"/>, if its whole label does.</summary>
    private static bool Next(ref Node node, string uri, ref int pos)
    {
        if (pos >= uri.Length || node.Children is null || !node.Children.TryGetValue(uri[pos], out var child) || !uri.AsSpan(pos).StartsWith(child.Label))
            return false;
        node = child;
        pos += child.Length;
        return true;
    }
}

/// <summary>Receives each matching entry of a lookup; a struct, so the lookup is a direct call and allocates nothing.</summary>
internal interface IEntryVisitor<in T>
{
    /// <summary>Called once per matching entry. It must not change the index it is called from.</summary>
    void Visit(T entry);
}
