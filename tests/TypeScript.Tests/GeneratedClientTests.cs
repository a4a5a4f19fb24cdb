using System.Text;
using System.Text.RegularExpressions;
using Conferences;
using WampContracts.Router;
using WampContracts.Testing;
using WampContracts.Transport;
using Xunit.Abstractions;

namespace WampContracts.TypeScript.Tests;

/// <summary>
/// The TypeScript client generated from the conferences contract, run by Node.js with Autobahn|JS (ts/conferences.test.ts),
/// against the C# service of that contract through the embedded router: typed results, the contract's error class, its
/// time limit, an idempotent call retried across a dropped connection, events both ways; and the callee receives from it
/// exactly the bytes the .NET proxy sends.
/// </summary>
[Collection(TypeScriptPeer.Collection)]
public sealed partial class GeneratedClientTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Realm = "conferences";
    private WampRouter _router = null!;
    private LoopbackProxy _proxy = null!;
    private RecordingTransport _recorder = null!;
    private WampSession _callee = null!;
    private DroppingService _service = null!;
    private readonly Listener _listener = new();
    private readonly ProgressSteps _steps = new();
    private readonly List<IAsyncDisposable> _attached = new();

    public async Task InitializeAsync()
    {
        _router = await WampRouter.StartAsync(new WampRouterOptions { Port = 0 });
        // The Node.js client connects through the proxy, so the callee can drop its connection.
        _proxy = LoopbackProxy.Start(_router.Url!.Port);
        _recorder = new RecordingTransport(_router.ConnectInMemory());
        _callee = await WampSession.JoinAsync(_recorder, Realm, StepsJson.SessionOptions());
        _service = new DroppingService(new ConferenceService(_callee.GetPublisher<IConferenceEvents>(), TimeProvider.System), _proxy);
        _attached.Add(await _callee.RegisterAsync<IConferences>(_service));
        _attached.Add(await _callee.SubscribeAsync<IConferenceEvents>(_listener));
        _attached.Add(await _callee.RegisterAsync<IProgressSteps>(_steps));
    }

    public async Task DisposeAsync()
    {
        foreach (var a in _attached) await a.DisposeAsync();
        await _callee.DisposeAsync();
        await _proxy.DisposeAsync();
        await _router.DisposeAsync();
    }

    [Fact]
    public async Task The_generated_client_calls_the_csharp_callee_with_its_types_errors_time_limits_retries_and_events()
    {
        TypeScriptPeer.CopyGenerated();
        var (compiled, tscOutput) = await TypeScriptPeer.TscAsync("-p", "tsconfig.json");
        Assert.True(compiled == 0, $"tsc failed:\n{tscOutput}");

        int before = _recorder.Count;
        await using (var node = PeerProcess.Start("node", ["out/conferences.test.js", "--url", _proxy.Url.ToString(), "--realm", Realm],
            TypeScriptPeer.Bound + TimeSpan.FromSeconds(10), TypeScriptPeer.Directory))
        {
            int exit = await node.WaitForExitAsync(TypeScriptPeer.Bound);
            output.WriteLine(node.Log);
            Assert.True(exit == 0 && node.Log.Contains("DONE", StringComparison.Ordinal), $"the Node.js client failed (exit {exit}):\n{node.Log}");
            foreach (string step in new[] { "PASS get", "PASS not_found ConferenceNotFound", "PASS timeout", "PASS abort AbortError", "PASS deadline", "PASS event", "PASS publish", "PASS stream", "PASS compare", "PASS idempotent" })
                Assert.Contains(step, node.Log);
        }
        var fromTypeScript = _recorder.Since(before);

        // [Idempotent] across a dropped connection: the update reached the callee twice with one UUIDv7 key, and ran once.
        Assert.Equal(1, _proxy.Cuts);
        Assert.Equal(1, _service.UpdatesOf42);
        var updates = fromTypeScript.Where(f => f.EndsWith(",[42,\"Brno\"]]", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, updates.Count);
        var keys = updates.Select(f => KeyPattern().Match(f)).ToList();
        Assert.All(keys, k => Assert.True(k.Success, string.Join("\n", updates)));
        Assert.Equal(keys[0].Groups[1].Value, keys[1].Groups[1].Value);

        // [Timeout] travelled as each call's timeout (cut by the deadline); the reads without side effects carried no key.

        // get(123), report(123) at its 200 ms, report(123) under a 120 ms deadline; the get after the deadline was never sent.
        var limits = fromTypeScript.Select(f => CallOf123Pattern().Match(f)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(3, limits.Count);
        Assert.Equal(2000, limits[0]);
        Assert.Equal(200, limits[1]);
        Assert.InRange(limits[2], 1, 120);

        // The aborted call had reached the callee: the abort came while it ran.
        Assert.Single(fromTypeScript, f => f.EndsWith(",{\"timeout\":200},[7]]", StringComparison.Ordinal));

        // Leaving the stream early canceled the call: the callee's token fired.
        await _steps.Canceled.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The typed publish reached a C# subscriber as a Conference.
        var published = await _listener.Published.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(new Conference("TypeScript Summit", "Node", 1), published);

        // The .NET proxy makes the same calls: the callee receives the same INVOCATIONs, byte for byte but the request id.
        int dotnetStart = _recorder.Count;
        await using (var session = await WampSession.ConnectAsync(_router.Url!, Realm, ConferencesApp.SessionOptions()))
        {
            var conferences = session.GetProxy<IConferences>();
            await conferences.Get(123);
            await conferences.List();
            var ticket = await conferences.Register(123, new Attendee("Ada", "ada@example.com"), requestId: "ada-at-desymfony");
            // Same key, same argument bytes: the callee replayed the TypeScript caller's registration instead of issuing another.
            Assert.Equal(new Ticket(123, "Ada", 1), ticket);
            Assert.Equal(1, _service.Inner.TicketsIssued);
        }
        var fromDotnet = _recorder.Since(dotnetStart);
        output.WriteLine("INVOCATIONs from the TypeScript client:\n" + string.Join("\n", fromTypeScript));
        output.WriteLine("INVOCATIONs from the .NET proxy:\n" + string.Join("\n", fromDotnet));
        Assert.Equal(3, fromDotnet.Count);
        var typeScriptFrames = fromTypeScript.Select(WithoutRequestId).ToHashSet();
        foreach (string frame in fromDotnet)
            Assert.True(typeScriptFrames.Contains(WithoutRequestId(frame)), $"the .NET proxy's {frame} has no twin among the TypeScript client's:\n{string.Join("\n", fromTypeScript)}");
    }

    /// <summary><c>[68,REQUEST,…</c> → <c>[68,0,…</c>: the only part that differs between two callers' identical calls.</summary>
    private static string WithoutRequestId(string invocation) => RequestIdPattern().Replace(invocation, "[68,0,", 1);

    [GeneratedRegex(@"^\[68,\d+,")]
    private static partial Regex RequestIdPattern();

    /// <summary>An INVOCATION with the single argument 123 and no key: its time limit.</summary>
    [GeneratedRegex(@"^\[68,\d+,\d+,\{""timeout"":(\d+)\},\[123\]\]$")]
    private static partial Regex CallOf123Pattern();

    [GeneratedRegex("\"x_idempotency_key\":\"([0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})\"")]
    private static partial Regex KeyPattern();

    /// <summary>The conferences service, which drops every connection through the proxy the first time it updates conference 42.</summary>
    private sealed class DroppingService(ConferenceService inner, LoopbackProxy proxy) : IConferences
    {
        private int _updatesOf42;

        public ConferenceService Inner => inner;

        public int UpdatesOf42 => Volatile.Read(ref _updatesOf42);

        public Task<Conference> Get(int id, CancellationToken cancellationToken = default) => inner.Get(id, cancellationToken);

        public Task<IReadOnlyList<Conference>> List(CancellationToken cancellationToken = default) => inner.List(cancellationToken);

        public async Task<Conference> Update(int id, string where, CancellationToken cancellationToken = default)
        {
            var updated = await inner.Update(id, where, cancellationToken);
            // The work is done; the caller's connection fails before the answer can reach it.
            if (id == 42 && Interlocked.Increment(ref _updatesOf42) == 1) proxy.CutAll();
            return updated;
        }

        public Task<Ticket> Register(int conferenceId, Attendee attendee, string? requestId = null, CancellationToken cancellationToken = default) =>
            inner.Register(conferenceId, attendee, requestId, cancellationToken);

        /// <summary>
        /// Far longer than any limit the script gives it (the sample's takes 1 s): the limit, deadline and abort steps
        /// end it through its token, so a machine busy enough to hold the timers back cannot turn them into an answer.
        /// </summary>
        public async Task<string> Report(int id, CancellationToken cancellationToken = default)
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return $"report for {id}";
        }
    }

    private sealed class Listener : IConferenceEvents
    {
        public TaskCompletionSource<Conference> Published { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Updated(Conference conference)
        {
            if (conference.Id == 1) Published.TrySetResult(conference);
            return Task.CompletedTask;
        }
    }

    /// <summary>The callee's transport, recording every INVOCATION it receives as text.</summary>
    private sealed class RecordingTransport(IWampTransport inner) : IWampTransport
    {
        private readonly Lock _lock = new();
        private readonly List<string> _invocations = new();

        public int Count
        {
            get { lock (_lock) return _invocations.Count; }
        }

        public List<string> Since(int index)
        {
            lock (_lock) return _invocations.Skip(index).ToList();
        }

        public async ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken)
        {
            var r = await inner.ReceiveAsync(cancellationToken);
            if (!r.IsClosed && r.Message.Span.StartsWith("[68,"u8))
            {
                string text = Encoding.UTF8.GetString(r.Message.Span);
                lock (_lock) _invocations.Add(text);
            }
            return r;
        }

        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken) => inner.SendAsync(message, cancellationToken);

        public ValueTask CloseAsync(CancellationToken cancellationToken) => inner.CloseAsync(cancellationToken);

        public void Abort() => inner.Abort();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
