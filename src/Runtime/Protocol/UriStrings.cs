using System.Text;

namespace WampContracts.Protocol;

/// <summary>
/// The strings of URIs as messages carry them, one per distinct URI while it keeps coming: a router reads the same
/// procedure and topic URIs in message after message, and a string for each would be most of what a routed call
/// allocates. Each thread keeps a small table indexed by the URI's hash; a URI that is not in it (or not ASCII, or
/// long) costs one string, as it would without the table, and takes the slot. Bounded in bytes: at most
/// <see cref="Slots"/> strings of at most <see cref="MaxLength"/> characters per thread.
/// </summary>
internal static class UriStrings
{
    private const int Slots = 64;
    private const int MaxLength = 96;

    [ThreadStatic] private static string?[]? t_slots;

    /// <summary>The string of <paramref name="utf8"/>, a URI's text with no escapes.</summary>
    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxLength || !Ascii.IsValid(utf8)) return Encoding.UTF8.GetString(utf8);
        var slots = t_slots ??= new string?[Slots];
        var hash = new HashCode();
        hash.AddBytes(utf8);
        ref string? slot = ref slots[(uint)hash.ToHashCode() % Slots];
        if (slot is { } known && known.Length == utf8.Length && Ascii.Equals(utf8, known)) return known;
        return slot = Encoding.ASCII.GetString(utf8);
    }
}
