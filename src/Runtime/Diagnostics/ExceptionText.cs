using System.Text.RegularExpressions;

namespace WampContracts;

/// <summary>What of an exception may leave the process (with <see cref="WampSessionOptions.IncludeExceptionDetails"/>).</summary>
internal static partial class ExceptionText
{
    /// <summary>
    /// The message with absolute file paths (<c>/srv/app/secrets.json</c>, <c>C:\app\x.cs</c>, <c>\\host\share\x</c>,
    /// <c>file:///…</c>) replaced by <c>[path]</c>: messages such as FileNotFoundException's name them, and where a
    /// service keeps its files is nobody else's business.
    /// </summary>
    public static string WithoutPaths(string message) => AbsolutePath().Replace(message, "[path]");

    [GeneratedRegex(@"file:/+[^\s'""<>]*|(?:\b[A-Za-z]:[\\/]|\\\\)[^\s'""<>|*?]+|(?<![\w.:/~-])/(?:[^\s/'""<>]+/)+[^\s/'""<>]*", RegexOptions.CultureInvariant)]
    private static partial Regex AbsolutePath();
}
