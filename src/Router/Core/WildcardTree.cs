namespace WampContracts.Router.Core;

/// <summary>
/// Wildcard patterns (an empty component matches any one component; the component counts must be equal), one radix
/// tree over components per component count. An edge carries a run of whole components; a node's children are keyed
/// by the first component of their edge, "" for a wildcard. A lookup only enters the tree of the URI's component count
/// and, at each branch, at most two children (the URI's component and the wildcard), so it sees only patterns that
/// match the URI so far, however many others there are. Guarded by the realm's lock.
/// </summary>
internal sealed class WildcardTree<T> where T : class
{
    private sealed class Node
    {
        // The edge into this node is Source[Start..Start+Length]: whole components, without the dots around them.
        // Start is also the node's depth in characters, and Source is a pattern below this node, so it holds the whole
        // path from the root at the same positions. An edge of one empty component has Length 0.
        public string Source = "";
        public int Start;
        public int Length;
        public T? Entry;
        public Dictionary<string, Node>? Children;

        public ReadOnlySpan<char> Label => Source.AsSpan(Start, Length);
    }

    // All patterns of one tree have the same number of components, so none is a prefix of another: entries are in
    // leaves only, and every node other than the root has an entry or at least two children.
    private readonly Dictionary<int, Node> _roots = new();

    // The lookup's work list, kept to avoid an allocation per lookup (visitors do not re-enter the tree).
    private readonly Stack<(Node Node, int Pos)> _pending = new();

    public int Count { get; private set; }

    public void Add(string pattern, T entry)
    {
        int components = ComponentCount(pattern);
        if (!_roots.TryGetValue(components, out var node)) _roots.Add(components, node = new Node());
        int pos = 0; // where the pattern's next component starts
        while (true)
        {
            var children = node.Children ??= new(StringComparer.Ordinal);
            var first = Component(pattern, pos);
            var byFirst = children.GetAlternateLookup<ReadOnlySpan<char>>();
            if (!byFirst.TryGetValue(first, out var child))
            {
                children.Add(first.ToString(), new Node { Source = pattern, Start = pos, Length = pattern.Length - pos, Entry = entry });
                Count++;
                return;
            }
            int common = CommonComponents(child.Label, pattern.AsSpan(pos));
            if (common < child.Length)
            {
                // The pattern leaves the edge after `common` characters of whole components: split it there.
                var split = new Node { Source = child.Source, Start = child.Start, Length = common, Children = new(StringComparer.Ordinal) };
                child.Start += common + 1;
                child.Length -= common + 1;
                split.Children.Add(Component(child.Source, child.Start).ToString(), child);
                byFirst[first] = split;
                child = split;
            }
            else if (pos + common == pattern.Length)
            {
                throw new InvalidOperationException($"wildcard pattern '{pattern}' is already in the tree");
            }
            node = child;
            pos += common + 1;
        }
    }

    /// <summary>Removes the entry of <paramref name="pattern"/>; false if there is none.</summary>
    public bool Remove(string pattern)
    {
        int components = ComponentCount(pattern);
        if (!_roots.TryGetValue(components, out var root)) return false;
        var node = root;
        int pos = 0;
        while (true)
        {
            if (node.Children is null || !node.Children.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(Component(pattern, pos), out var child))
                return false;
            int end = pos + child.Length;
            if (!pattern.AsSpan(pos).StartsWith(child.Label) || (end < pattern.Length && pattern[end] != '.'))
                return false;
            if (end < pattern.Length)
            {
                node = child;
                pos = end + 1;
                continue;
            }
            if (child.Entry is null) return false;
            node.Children.GetAlternateLookup<ReadOnlySpan<char>>().Remove(Component(pattern, pos));
            Count--;
            break;
        }
        // Keep the invariant: a tree with no pattern goes; an inner node left with one child takes that child's place.
        if (node == root)
        {
            if (root.Children!.Count == 0) _roots.Remove(components);
        }
        else if (node.Children!.Count == 1)
        {
            foreach (var only in node.Children.Values)
            {
                // only.Start == node.Start + node.Length + 1, and only.Source holds node's label at the same positions.
                node.Source = only.Source;
                node.Length += 1 + only.Length;
                node.Entry = only.Entry;
                node.Children = only.Children;
            }
        }
        return true;
    }

    /// <summary>
    /// The entry of the most specific pattern that matches <paramref name="uri"/>: at the first component where two
    /// matching patterns differ, the literal one wins (so <c>a1.b2..d4</c> beats <c>a1...d4</c> for <c>a1.b2.c3.d4</c>).
    /// </summary>
    public T? MostSpecific(string uri)
    {
        // Depth first with the literal child before the wildcard: where two matching patterns part, the literal one
        // is the more specific, and so is every match in its subtree, so the first match found is the answer.
        var visitor = new FirstMatch();
        Walk(uri, ref visitor, stopAtFirst: true);
        return visitor.Found;
    }

    /// <summary>Visits the entry of every pattern that matches <paramref name="uri"/>.</summary>
    public void VisitMatches<TVisitor>(string uri, ref TVisitor visitor) where TVisitor : struct, IEntryVisitor<T> =>
        Walk(uri, ref visitor, stopAtFirst: false);

    private void Walk<TVisitor>(string uri, ref TVisitor visitor, bool stopAtFirst) where TVisitor : struct, IEntryVisitor<T>
    {
        if (_roots.Count == 0 || !_roots.TryGetValue(ComponentCount(uri), out var root)) return;
        // Iterative, not recursive: a pattern may have as many components as a message can carry.
        var pending = _pending;
        pending.Clear();
        pending.Push((root, 0));
        while (pending.TryPop(out var item))
        {
            var (node, pos) = item;
            if (node.Entry is not null)
            {
                visitor.Visit(node.Entry);
                if (stopAtFirst) break;
                continue;
            }
            if (node.Children is not { } children || pos > uri.Length) continue;
            var component = Component(uri, pos);
            // Pushed last, popped first: the literal branch is explored before the wildcard one.
            if (children.TryGetValue("", out var any) && Follow(any, uri, pos) is >= 0 and var anyEnd)
                pending.Push((any, anyEnd + 1));
            if (!component.IsEmpty && children.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(component, out var literal) &&
                Follow(literal, uri, pos) is >= 0 and var literalEnd)
                pending.Push((literal, literalEnd + 1));
        }
        pending.Clear();
    }

    /// <summary>
    /// Matches the edge into <paramref name="node"/> against the URI's components from <paramref name="pos"/> (an empty
    /// component of the edge matches any one). Returns where the last matched URI component ends, or -1.
    /// </summary>
    private static int Follow(Node node, string uri, int pos)
    {
        var label = node.Label;
        while (true)
        {
            int labelDot = label.IndexOf('.');
            var expected = labelDot < 0 ? label : label[..labelDot];
            var actual = Component(uri, pos);
            if (!expected.IsEmpty && !expected.SequenceEqual(actual)) return -1;
            pos += actual.Length;
            if (labelDot < 0) return pos;
            if (pos >= uri.Length) return -1;
            pos++;
            label = label[(labelDot + 1)..];
        }
    }

    private static ReadOnlySpan<char> Component(string s, int pos)
    {
        if (pos >= s.Length) return default;
        var rest = s.AsSpan(pos);
        int dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static int ComponentCount(string s) => s.AsSpan().Count('.') + 1;

    /// <summary>The length of the longest run of whole components that <paramref name="a"/> and <paramref name="b"/> both start with.</summary>
    private static int CommonComponents(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
    {
        int common = a.CommonPrefixLength(b);
        bool boundary = (common == a.Length || a[common] == '.') && (common == b.Length || b[common] == '.');
        // Otherwise back up to the last dot both share (callers know the first components are equal, so there is one).
        return boundary ? common : a[..common].LastIndexOf('.');
    }

    private struct FirstMatch : IEntryVisitor<T>
    {
        public T? Found;

        public void Visit(T entry) => Found ??= entry;
    }
}
