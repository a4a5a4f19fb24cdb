namespace WampContracts.Router;

/// <summary>
/// The settings of one realm served by a <see cref="WampRouter"/>: who may join it and how (authentication), and
/// what each role may do in it (authorization). See docs/security.md.
/// </summary>
public sealed class WampRealmOptions
{
    /// <summary>The realm's URI.</summary>
    public required string Name { get; init; }
}
