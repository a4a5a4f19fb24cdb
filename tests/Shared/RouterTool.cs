namespace WampContracts.Testing;

/// <summary>
/// The standalone router (the <c>wamp-router</c> tool, project src/Router.Tool) as tests start it: its assembly,
/// copied into the test's output by a project reference, run with <c>dotnet</c>. The one way tests find it.
/// </summary>
public static class RouterTool
{
    /// <summary>The tool's assembly in the test's output directory.</summary>
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "WampContracts.Router.Tool.dll");

    /// <summary>Starts the router with <paramref name="arguments"/>; it is killed (by process id) after <paramref name="lifetime"/> whatever happens.</summary>
    public static PeerProcess Start(IEnumerable<string> arguments, TimeSpan lifetime) => PeerProcess.Start("dotnet", [Dll, .. arguments], lifetime);
}
