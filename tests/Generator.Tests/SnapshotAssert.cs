using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace WampContracts.Generator.Tests;

/// <summary>
/// Snapshot testing of generated source. The committed <c>Snapshots/{name}.verified.cs</c> is the expectation; a
/// mismatch writes <c>{name}.received.cs</c> beside it and fails with a line diff. Set <c>ACCEPT_SNAPSHOTS=1</c> to
/// accept received output as the new expectation.
/// </summary>
internal static partial class SnapshotAssert
{
    private static readonly string Directory = typeof(SnapshotAssert).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "SnapshotsDirectory").Value!;

    public static void Matches(string actual, [CallerMemberName] string name = "") => MatchesFile(actual, ".cs", name);

    /// <summary>The same for a file of another kind: <paramref name="extension"/> is the snapshot's, e.g. <c>.d.ts</c>.</summary>
    public static void MatchesFile(string actual, string extension, [CallerMemberName] string name = "")
    {
        actual = Scrub(actual);
        string verified = Path.Combine(Directory, name + ".verified" + extension);
        string received = Path.Combine(Directory, name + ".received" + extension);
        if (Environment.GetEnvironmentVariable("ACCEPT_SNAPSHOTS") == "1")
        {
            File.WriteAllText(verified, actual);
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        string expected = File.Exists(verified) ? File.ReadAllText(verified) : "";
        if (expected == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        File.WriteAllText(received, actual);
        Assert.Fail($"Generated source differs from {verified} (received: {received}; set ACCEPT_SNAPSHOTS=1 to accept):\n{Diff(expected, actual)}");
    }

    /// <summary>The generator's version changes with every release: snapshots do not record it.</summary>
    private static string Scrub(string source) => VersionPattern().Replace(source.Replace("\r\n", "\n"), "\"WampContracts.Generator\", \"VERSION\"");

    [GeneratedRegex("\"WampContracts\\.Generator\", \"[0-9.]+\"")]
    private static partial Regex VersionPattern();

    private static string Diff(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var sb = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.Max(e.Length, a.Length) && shown < 20; i++)
        {
            string? x = i < e.Length ? e[i] : null, y = i < a.Length ? a[i] : null;
            if (x == y) continue;
            if (x is not null) sb.AppendLine($"-{i + 1}: {x}");
            if (y is not null) sb.AppendLine($"+{i + 1}: {y}");
            shown++;
        }
        return sb.ToString();
    }
}
