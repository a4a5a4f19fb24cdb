using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using WampContracts.Router;
using Xunit.Abstractions;

namespace WampContracts.Aot.Tests;

/// <summary>
/// A consumer written as the README says (default session options, a JsonSerializerContext for its contract types, as
/// WAMP0021 asks) and published with <c>PublishAot=true</c>: the publish reports no warning, and the native binary's
/// typed calls (records, lists, nullable values, enums, progressive results, a [WampError] with data) work through our
/// router over WebSockets on loopback.
/// </summary>
public sealed partial class NativeAotTests(ITestOutputHelper output)
{
    private static readonly string Root = Path.GetFullPath(typeof(NativeAotTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!);

    /// <summary>Bounds: a first Native AOT publish restores the compiler package and links; the app makes a handful of calls.</summary>
    private static readonly TimeSpan PublishBound = TimeSpan.FromMinutes(20), RunBound = TimeSpan.FromSeconds(60);

    // "file(1,2): warning CS1234: …", "ILC : Trim analysis warning IL2026: …": any diagnostic of severity warning.
    [GeneratedRegex(@"\bwarning [A-Z]+[0-9]+")]
    private static partial Regex Warning();

    [Fact]
    public async Task A_readme_consumer_published_with_native_aot_has_no_warnings_and_its_typed_calls_work()
    {
        var work = Directory.CreateTempSubdirectory("wamp-aot-");
        try
        {
            // A copy of what the app references, so its Release/RID build shares no obj/ folder with the solution's build.
            foreach (var path in Sources)
                Copy(Path.Combine(Root, path), Path.Combine(work.FullName, path));
            string app = Path.Combine(work.FullName, "tests/Aot.Tests/App"), published = Path.Combine(work.FullName, "published");

            var publishTime = Stopwatch.StartNew();
            var (code, log) = await RunAsync(Dotnet(), ["publish", app, "-c", "Release", "-r", "linux-x64", "-o", published,
                "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"], PublishBound);
            publishTime.Stop();
            Assert.True(code == 0, log);
            Assert.True(!Warning().IsMatch(log), log);

            var binary = new FileInfo(Path.Combine(published, "AotApp"));
            Assert.True(binary.Exists, log);
            Assert.False(File.Exists(Path.Combine(published, "AotApp.dll")), "a native binary, not IL");

            await using var router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
            var started = Stopwatch.StartNew();
            TimeSpan? firstCall = null;
            var (exit, text) = await RunAsync(binary.FullName, [router.Url!.ToString()], RunBound,
                line => { if (line.StartsWith("first call:", StringComparison.Ordinal)) firstCall ??= started.Elapsed; });
            Assert.True(exit == 0, text);
            Assert.Contains("first call: C# in a nutshell", text);
            Assert.Contains("all calls passed", text);
            Assert.NotNull(firstCall);

            string figures = $"Native AOT: publish {publishTime.Elapsed.TotalSeconds:F0} s, binary {binary.Length / 1024.0 / 1024.0:F1} MiB, " +
                             $"start to first call {firstCall.Value.TotalMilliseconds:F0} ms";
            output.WriteLine(figures);
            if (Environment.GetEnvironmentVariable("WAMP_AOT_REPORT") is { Length: > 0 } report) await File.AppendAllTextAsync(report, figures + "\n");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Without_json_metadata_for_its_types_the_aot_build_fails_with_WAMP0021_naming_each_one()
    {
        var work = Directory.CreateTempSubdirectory("wamp-aot-");
        try
        {
            foreach (var path in Sources)
                Copy(Path.Combine(Root, path), Path.Combine(work.FullName, path));
            string app = Path.Combine(work.FullName, "tests/Aot.Tests/App");
            // The same app without the lines the build asks for.
            var contracts = Path.Combine(app, "Contracts.cs");
            var lines = (await File.ReadAllLinesAsync(contracts)).Where(l => !l.StartsWith("[JsonSerializable(", StringComparison.Ordinal)).ToList();
            lines[lines.FindIndex(l => l.Contains("class CatalogJson", StringComparison.Ordinal))] = "";
            await File.WriteAllLinesAsync(contracts, lines);

            var (code, log) = await RunAsync(Dotnet(), ["build", app, "-c", "Release", "-r", "linux-x64", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"], PublishBound);
            Assert.NotEqual(0, code);
            foreach (var type in new[] { "AotApp.Product", "System.Collections.Generic.List<AotApp.Product>", "AotApp.Category", "AotApp.Category?", "int?" })
                Assert.Contains($"add [JsonSerializable(typeof({type}))] to a JsonSerializerContext of this project", log);
            Assert.DoesNotContain("error CS", log);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Dotnet() => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    /// <summary>What the consumer builds from: the runtime, the generator and code fixes it ships with, and the app.</summary>
    private static readonly string[] Sources =
        ["Directory.Build.props", "nuget.config", "src/Runtime", "src/Generator", "src/Generator.CodeFixes", "tests/Aot.Tests/App"];

    private static void Copy(string from, string to)
    {
        if (File.Exists(from))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(from, to);
            return;
        }
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj")) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(to, relative))!);
            File.Copy(file, Path.Combine(to, relative));
        }
    }

    /// <summary>Runs a process to its end within <paramref name="bound"/> (killed, with its children, past it); returns its exit code and output.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, TimeSpan bound, Action<string>? onLine = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = new Process { StartInfo = info };
        var text = new StringBuilder();
        void Read(string? line)
        {
            if (line is null) return;
            lock (text) text.AppendLine(line);
            onLine?.Invoke(line);
        }
        process.OutputDataReceived += (_, e) => Read(e.Data);
        process.ErrorDataReceived += (_, e) => Read(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
            throw new TimeoutException($"'{Path.GetFileName(file)} {string.Join(' ', arguments)}' did not end within {bound}:\n{text}");
        }
        lock (text) return (process.ExitCode, text.ToString());
    }
}
