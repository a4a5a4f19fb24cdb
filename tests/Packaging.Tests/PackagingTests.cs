using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.Packaging.Tests;

/// <summary>
/// The packages as a user gets them: everything packed with the documented command into a temporary folder, then a
/// new console app and a new ASP.NET Core app outside the solution restore from that folder (and the machine's own
/// NuGet source), the router tool is installed with <c>dotnet tool install --tool-path</c>, and both apps build the
/// sample's contract with zero warnings and call it.
/// </summary>
public sealed partial class PackagingTests : IDisposable
{
    // Every external command is bounded; these are limits against hangs, not speed goals.
    private static readonly TimeSpan CommandBound = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan AppBound = TimeSpan.FromMinutes(2);

    private static readonly string RepositoryRoot = typeof(PackagingTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    private static readonly string[] Packages = ["WampContracts", "WampContracts.Hosting", "WampContracts.Redis", "WampContracts.Router", "WampContracts.Router.Redis", "WampContracts.Router.Tool"];

    private readonly string _root = Directory.CreateTempSubdirectory("wampcontracts-packaging-").FullName;

    // A version no earlier run used: the machine's package cache can hold no stale package of it.
    private readonly string _version = $"0.0.1-test{Guid.NewGuid():N}";

    private readonly ITestOutputHelper _output;

    public PackagingTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Packed_packages_build_the_sample_contract_without_warnings_and_call_it_through_the_tool_and_a_mapped_router()
    {
        string feed = Path.Combine(_root, "packages");
        await PackAsync(feed);
        AssertPackages(feed);

        // Sources: the pack folder, plus whatever the machine has configured (no <clear/>: inherited).
        string config = Path.Combine(_root, "nuget.config");
        File.WriteAllText(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="wampcontracts-packed" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        string consoleApp = CreateApp("ConsoleApp");
        string webApp = CreateApp("WebApp");
        await BuildWithoutWarningsAsync(consoleApp);
        await BuildWithoutWarningsAsync(webApp);
        // The router package is a class library: no apphost of it in the consumer's output.
        string webOutput = Path.Combine(webApp, "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(webOutput, "WampContracts.Router.dll")));
        Assert.False(File.Exists(Path.Combine(webOutput, "WampContracts.Router")), "an apphost of the router is in the consumer's output");
        Assert.False(File.Exists(Path.Combine(webOutput, "WampContracts.Router.runtimeconfig.json")));

        string tools = Path.Combine(_root, "tools");
        await RunAsync("dotnet", ["tool", "install", "WampContracts.Router.Tool", "--version", _version, "--tool-path", tools, "--configfile", config], _root);

        await CallThroughTheToolAsync(Path.Combine(tools, "wamp-router"), consoleApp);
        await CallThroughTheMappedRouterAsync(webApp, consoleApp);
    }

    private async Task CallThroughTheToolAsync(string tool, string consoleApp)
    {
        await using var router = PeerProcess.Start(tool, ["--port", "0", "--realm", "conferences"], AppBound, _root, DotnetEnvironment());
        string listening = await router.WaitForLineAsync("WAMP router listening on ", AppBound);
        string url = UrlPattern().Match(listening).Value;

        // This app both serves the contract (callee from DI) and calls it (proxy from DI), through the tool's router.
        string output = await RunAppAsync(consoleApp, "ConsoleApp", ["--Callee=true", $"--Wamp:RouterUrl={url}", "--Wamp:Realm=conferences"]);
        Assert.Contains("await conferences.Get(123) -> deSymfony, Madrid", output);

        router.Terminate();
        Assert.Equal(0, await router.WaitForExitAsync(AppBound));
    }

    private async Task CallThroughTheMappedRouterAsync(string webApp, string consoleApp)
    {
        int port = FreePort();
        string http = $"http://127.0.0.1:{port}";
        string ws = $"ws://127.0.0.1:{port}/ws";
        await using var web = PeerProcess.Start("dotnet", [Path.Combine(webApp, "bin", "Release", "net10.0", "WebApp.dll"), $"--urls={http}", $"--Wamp:RouterUrl={ws}", "--Wamp:Realm=conferences"],
            AppBound, webApp, DotnetEnvironment());
        await web.WaitForLineAsync("wamp ready", AppBound);

        // Another process calls through the router mapped in the web app, where the callee is resolved from DI.
        string output = await RunAppAsync(consoleApp, "ConsoleApp", [$"--Wamp:RouterUrl={ws}", "--Wamp:Realm=conferences"]);
        Assert.Contains("await conferences.Get(123) -> deSymfony, Madrid", output);

        // And the web app's own endpoint, with the proxy injected, through its own router; its health check says so.
        using var client = new HttpClient { Timeout = AppBound };
        Assert.Equal("deSymfony, Madrid", await client.GetStringAsync($"{http}/conferences/123"));
        Assert.Equal("Healthy", await client.GetStringAsync($"{http}/health"));

        web.Terminate();
        Assert.Equal(0, await web.WaitForExitAsync(AppBound));
    }

    private async Task PackAsync(string feed)
    {
        // A copy of the sources, so that packing touches nothing in the working tree (its obj/ and bin/ folders).
        string source = Path.Combine(_root, "source");
        CopySources(RepositoryRoot, source);
        string output = await RunAsync("dotnet", ["pack", Path.Combine(source, "Contracts.sln"), "-c", "Release", "-o", feed, $"-p:Version={_version}", "--nologo"], source);
        Assert.DoesNotMatch(@": warning [A-Z]+[0-9]+", output);
    }

    private void AssertPackages(string feed)
    {
        // Exactly the six packages, each with its symbols, and nothing else from the solution.
        var expected = Packages.SelectMany(p => new[] { $"{p}.{_version}.nupkg", $"{p}.{_version}.snupkg" }).Order().ToArray();
        Assert.Equal(expected, Directory.GetFiles(feed).Select(Path.GetFileName).Order().ToArray());
        foreach (string package in Packages)
        {
            using var zip = ZipFile.OpenRead(Path.Combine(feed, $"{package}.{_version}.nupkg"));
            string nuspec = new StreamReader(zip.GetEntry($"{package}.nuspec")!.Open()).ReadToEnd();
            Assert.Contains($"<version>{_version}</version>", nuspec);
            Assert.Contains("<license type=\"expression\">MIT</license>", nuspec);
            Assert.Contains("<readme>README.md</readme>", nuspec);
            Assert.Contains("<repository type=\"git\"", nuspec);
            Assert.Matches("<tags>[^<]*wamp[^<]*</tags>", nuspec);
            Assert.NotNull(zip.GetEntry("README.md"));
        }
        using (var runtime = ZipFile.OpenRead(Path.Combine(feed, $"WampContracts.{_version}.nupkg")))
        {
            // The generator and analyzer ride in the runtime package.
            Assert.NotNull(runtime.GetEntry("analyzers/dotnet/cs/WampContracts.Generator.dll"));
            Assert.NotNull(runtime.GetEntry("analyzers/dotnet/cs/WampContracts.Generator.CodeFixes.dll"));
            Assert.NotNull(runtime.GetEntry("lib/net10.0/WampContracts.dll"));
        }
        using (var router = ZipFile.OpenRead(Path.Combine(feed, $"WampContracts.Router.{_version}.nupkg")))
        {
            Assert.NotNull(router.GetEntry("lib/net10.0/WampContracts.Router.dll"));
        }
        using var tool = ZipFile.OpenRead(Path.Combine(feed, $"WampContracts.Router.Tool.{_version}.nupkg"));
        Assert.Contains("wamp-router", new StreamReader(tool.GetEntry("tools/net10.0/any/DotnetToolSettings.xml")!.Open()).ReadToEnd());
    }

    /// <summary>A new app in the temporary folder (outside the solution), with the sample's contract and service.</summary>
    private string CreateApp(string name)
    {
        string directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        foreach (string file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Consumers", name)))
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
        foreach (string file in new[] { "Contracts.cs", "ConferenceService.cs" })
            File.Copy(Path.Combine(RepositoryRoot, "samples", "Conferences", file), Path.Combine(directory, file));
        return directory;
    }

    private async Task BuildWithoutWarningsAsync(string app)
    {
        // Restores through the nuget.config in the folder above the app: the pack folder and the machine's sources.
        string output = await RunAsync("dotnet", ["build", app, "-c", "Release", $"-p:WampVersion={_version}", "--nologo"], app);
        Assert.DoesNotMatch(@": warning [A-Z]+[0-9]+", output);
        Assert.Contains(" 0 Warning(s)", output);
        Assert.Contains(" 0 Error(s)", output);
    }

    private async Task<string> RunAppAsync(string app, string name, string[] arguments)
    {
        string dll = Path.Combine(app, "bin", "Release", "net10.0", name + ".dll");
        return await RunAsync("dotnet", [dll, .. arguments], app, AppBound);
    }

    /// <summary>Runs a command to its end (killed by process id past the bound), asserts exit code 0, and returns its output.</summary>
    private async Task<string> RunAsync(string fileName, string[] arguments, string workingDirectory, TimeSpan? bound = null)
    {
        var limit = bound ?? CommandBound;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var process = PeerProcess.Start(fileName, arguments, limit, workingDirectory, DotnetEnvironment());
        int code = await process.WaitForExitAsync(limit + TimeSpan.FromSeconds(10));
        string log = process.Log;
        // The time is reported, not asserted.
        _output.WriteLine($"$ {fileName} {string.Join(' ', arguments)} (exit {code}, {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s)");
        _output.WriteLine(log);
        Assert.True(code == 0, $"{fileName} {string.Join(' ', arguments)} exited with {code}:\n{log}");
        return log;
    }

    private static Dictionary<string, string> DotnetEnvironment() => new()
    {
        // The tool's apphost and the apps find the runtime this test runs on.
        ["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..")),
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
    };

    private static void CopySources(string from, string to)
    {
        foreach (string directory in Directory.EnumerateDirectories(from, "*", SearchOption.TopDirectoryOnly))
        {
            string name = Path.GetFileName(directory);
            if (name is "bin" or "obj" or "node_modules" or "TestResults" or ".git" or ".vs" or "artifacts") continue;
            CopySources(directory, Path.Combine(to, name));
        }
        Directory.CreateDirectory(to);
        foreach (string file in Directory.EnumerateFiles(from))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"wss?://\S+/")]
    private static partial Regex UrlPattern();

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Left for the system's temporary-file cleanup.
        }
        // The packages of this run's unique version, restored into the machine's package cache, are of no further use.
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string package in Packages)
        {
            string directory = Path.Combine(cache, package.ToLowerInvariant(), _version);
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
