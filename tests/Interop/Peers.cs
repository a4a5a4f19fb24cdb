using System.Reflection;
using System.Text.Json;
using WampContracts.Testing;

namespace WampContracts.Interop.Tests;

/// <summary>Starts the third-party peers installed by <c>tests/Interop/setup.sh</c>: Node.js scripts and Autobahn|Python.</summary>
internal static class Peers
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public static string Directory { get; } = Locate();

    private static string Locate()
    {
        string dir = typeof(Peers).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PeersDirectory").Value!;
        if (!System.IO.Directory.Exists(Path.Combine(dir, "node_modules", "autobahn")) || !System.IO.Directory.Exists(Path.Combine(dir, "node_modules", "fox-wamp")))
            throw new InvalidOperationException($"The interop peers are not installed in {dir}: run tests/Interop/setup.sh first.");
        if (!File.Exists("/usr/bin/python3"))
            throw new InvalidOperationException("/usr/bin/python3 is missing: run tests/Interop/setup.sh first.");
        return dir;
    }

    /// <summary>Starts an Autobahn|JS callee against <paramref name="url"/> and waits until it has registered everything.</summary>
    public static async Task<PeerProcess> StartJsCalleeAsync(Uri url, string name = "callee", string invoke = "single", int publishIntervalMs = 0, string realm = "realm1", string only = "all")
    {
        var process = PeerProcess.Start("node", ["callee.js", "--url", url.ToString(), "--realm", realm, "--name", name, "--invoke", invoke, "--only", only,
            "--publish-interval", publishIntervalMs.ToString(System.Globalization.CultureInfo.InvariantCulture), "--lifetime", "90"],
            TimeSpan.FromSeconds(100), Directory);
        await process.WaitForLineAsync("READY callee", Bound);
        return process;
    }

    /// <summary>Starts the fox-wamp router on a free port and returns its URL.</summary>
    public static async Task<(PeerProcess Process, Uri Url)> StartFoxWampAsync(params string[] options)
    {
        var process = PeerProcess.Start("node", ["fox-router.js", "--port", "0", "--lifetime", "120", .. options], TimeSpan.FromSeconds(130), Directory);
        string line = await process.WaitForLineAsync("READY fox-wamp", Bound);
        return (process, new Uri(line.Split(' ').Last()));
    }

    /// <summary>Runs one Autobahn|Python scenario (see peers/caller.py) to the end and returns its JSON lines.</summary>
    public static Task<List<JsonElement>> RunPythonAsync(Uri url, params string[] scenario) => RunPythonInRealmAsync(url, "realm1", scenario);

    public static async Task<List<JsonElement>> RunPythonInRealmAsync(Uri url, string realm, params string[] scenario)
    {
        await using var process = StartPython(url, ["--realm", realm, .. scenario]);
        int exit = await process.WaitForExitAsync(Bound);
        Assert.True(exit == 0 && process.Log.Contains("DONE"), $"caller.py {string.Join(' ', scenario)} failed (exit {exit}):\n{process.Log}");
        return ParseLines(process.Log);
    }

    /// <summary>Runs peers/auth.js: Autobahn|JS joins with one authentication method; returns its one JSON line.</summary>
    public static async Task<JsonElement> RunJsAuthAsync(Uri url, string method, string? authId, string secret)
    {
        string[] identity = authId is null ? [] : ["--authid", authId];
        await using var process = PeerProcess.Start("node", ["auth.js", "--url", url.ToString(), "--authmethod", method, .. identity, "--secret", secret, "--lifetime", "20"],
            TimeSpan.FromSeconds(30), Directory);
        int exit = await process.WaitForExitAsync(Bound);
        var lines = ParseLines(process.Log);
        Assert.True(exit == 0 && lines.Count == 1, $"auth.js {method} failed (exit {exit}):\n{process.Log}");
        return lines[0];
    }

    public static PeerProcess StartPython(Uri url, params string[] scenario) =>
        PeerProcess.Start("/usr/bin/python3", ["caller.py", "--url", url.ToString(), .. scenario], TimeSpan.FromSeconds(40), Directory);

    /// <summary>The field <paramref name="name"/> of a peer's JSON line; a line without it fails with the whole line.</summary>
    public static JsonElement Field(this JsonElement line, string name)
    {
        Assert.True(line.TryGetProperty(name, out var value), $"no \"{name}\" in the peer's line {line.GetRawText()}");
        return value;
    }

    public static List<JsonElement> ParseLines(string log) =>
        log.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
}
