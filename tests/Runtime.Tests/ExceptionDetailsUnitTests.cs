using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;

namespace WampContracts.Tests;

/// <summary>What of a handler's exception reaches the caller (type and message at most), and what the callee logs (all of it).</summary>
public sealed class ExceptionDetailsUnitTests
{
    private static string Text(ReadOnlyMemory<byte> json) => Encoding.UTF8.GetString(json.Span);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static ValueTask<WampPayload> ReadSecrets() =>
        throw new FileNotFoundException("Could not find file '/srv/app/secrets.json'.", new InvalidOperationException("inner: Password=hunter2"));

    private static async Task<(ScriptedRouter Router, WampSession Session, RecordingLoggerFactory Logs)> JoinWithFailingHandlerAsync(bool includeDetails)
    {
        var logs = new RecordingLoggerFactory();
        var (router, session) = await ScriptedRouter.JoinAsync(new WampSessionOptions { IncludeExceptionDetails = includeDetails, LoggerFactory = logs });
        var registering = session.RegisterAsync("com.example.secrets", (inv, ct) => ReadSecrets());
        var register = await router.ReceiveAsync(WampMessageType.Register);
        router.Send($"[65, {register.Id1}, 100]");
        await registering.WaitAsync(ScriptedRouter.Bound);
        return (router, session, logs);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_caller_gets_at_most_type_and_message_and_the_callee_logs_the_whole_exception(bool includeDetails)
    {
        var (router, session, logs) = await JoinWithFailingHandlerAsync(includeDetails);
        await using var __ = session;
        await using var _ = router; // disposed first: the session then sees the transport close
        router.Send("""[68, 7, 100, {}]""");
        var error = await router.ReceiveAsync(WampMessageType.Error);
        Assert.Equal("wamp.error.runtime_error", error.Uri);

        string sent = error.ToString();
        foreach (var secret in new[] { "/srv/app", "secrets.json", "hunter2", "inner", " at ", ".cs", nameof(ReadSecrets) })
            Assert.DoesNotContain(secret, sent);
        if (includeDetails)
        {
            Assert.Equal("""["Could not find file '[path]'."]""", Text(error.Payload.ArgumentsJson));
            Assert.Equal("""{"exception":"System.IO.FileNotFoundException"}""", Text(error.Payload.KeywordArgumentsJson));
        }
        else
        {
            Assert.Equal(0, error.Payload.ArgumentCount);
            Assert.False(error.Payload.HasKeywordArguments);
        }

        // Either way the callee keeps everything in its own log: event 1007 with procedure, request id and the exception.
        var entry = Assert.Single(logs.Entries, e => e.EventId == 1007);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("com.example.secrets", entry.State["Procedure"]);
        Assert.Equal(7L, entry.State["RequestId"]);
        var logged = Assert.IsType<FileNotFoundException>(entry.Exception);
        Assert.Contains("/srv/app/secrets.json", logged.Message);
        Assert.Contains(nameof(ReadSecrets), logged.StackTrace);
        Assert.Equal("inner: Password=hunter2", logged.InnerException!.Message);
    }

    [Fact]
    public void Exception_details_are_off_by_default() => Assert.False(new WampSessionOptions().IncludeExceptionDetails);

    [Theory]
    [InlineData("Could not find file '/srv/app/secrets.json'.", "Could not find file '[path]'.")]
    [InlineData(@"Could not find a part of the path 'C:\app\data\x.db'.", "Could not find a part of the path '[path]'.")]
    [InlineData(@"Access to \\fileserver\share\x denied", "Access to [path] denied")]
    [InlineData("at file:///home/ci/src/Program.cs line 4", "at [path] line 4")]
    [InlineData("see /var/log/app.log and /etc/app/config.json", "see [path] and [path]")]
    public void Absolute_paths_in_messages_are_replaced(string message, string expected) =>
        Assert.Equal(expected, ExceptionText.WithoutPaths(message));

    [Theory]
    [InlineData("conference 999 not found")]
    [InlineData("com.example.error.not_found: 3/4 seats left")]
    [InlineData("call https://example.com/api/v1 failed")]
    [InlineData("ratio a/b is undefined")]
    public void Messages_without_absolute_paths_are_unchanged(string message) =>
        Assert.Equal(message, ExceptionText.WithoutPaths(message));

    private sealed record Entry(int EventId, LogLevel Level, Exception? Exception, IReadOnlyDictionary<string, object?> State);

    private sealed class RecordingLoggerFactory : ILoggerFactory, ILogger
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            Entries.Enqueue(new Entry(eventId.Id, logLevel, exception, values.ToDictionary(v => v.Key, v => v.Value)));
        }
    }
}
