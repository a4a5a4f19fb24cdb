using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using CsCheck;
using Microsoft.Extensions.Logging;
using WampContracts.Protocol;
using WampContracts.Testing;
using WampContracts.Transport;
using Xunit.Abstractions;

namespace WampContracts.Tests;

/// <summary>
/// A session whose router turns hostile: fake in-memory routers send it at least <see cref="MinimumFrames"/> hostile
/// frames (<see cref="WampFuzz.Frames"/>, and frames aimed at what the session has in flight: RESULTs and ERRORs for
/// its pending calls, INVOCATIONs of its registration, EVENTs of its subscription), each followed by a marker
/// INVOCATION whose YIELD says the connection still works, while the application calls, is called and receives
/// events. The session may abort a connection and reconnect (it has a reconnect policy), but it never fails
/// unexpectedly (event 1009), never lets an exception of another kind reach a caller or go unobserved, never stops
/// answering within a bound, and works again once its router behaves.
/// </summary>
public class SessionFuzzTests(ITestOutputHelper output)
{
    /// <summary>The least number of hostile frames a run sends the session.</summary>
    public const int MinimumFrames = 10_000;

    private const int MaxMessageSize = 64 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private const long FirstMarker = 9_000_000_000_000_000L;

    private static int FrameCount =>
        Math.Max(MinimumFrames, int.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_FRAMES"), out int n) ? n / 10 : 0);

    private sealed class Stats
    {
        public long Frames, Connections, ClientAborts, Goodbyes, Markers, Invocations, Errors, Calls, CallsAnswered, CallErrors, CallTimeouts, CallsLost, Events;
    }

    [Fact]
    public async Task A_session_fed_hostile_frames_by_its_router_never_fails_unexpectedly_and_works_again_once_the_router_behaves()
    {
        ulong seed = ulong.TryParse(Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"), out ulong s) ? s : (ulong)Random.Shared.NextInt64();
        Report($"session fuzz: seed {seed} (set WAMP_FUZZ_SEED={seed} to replay)");
        var stats = new Stats();
        var log = new CountingLoggerFactory(1007, 1008, 1009);
        var handlerErrors = new ConcurrentQueue<Exception>();
        var unexpected = new ConcurrentQueue<string>();
        long budget = FrameCount;
        int connections = 0;
        using var end = new CancellationTokenSource();
        var routers = new ConcurrentBag<Task>();

        Task<IWampTransport> Connect(CancellationToken ct)
        {
            var (client, server) = InMemoryTransport.CreatePair(MaxMessageSize);
            int index = Interlocked.Increment(ref connections);
            Interlocked.Increment(ref stats.Connections);
            // The first connection always welcomes the session: JoinAsync has no reconnect policy to fall back on.
            routers.Add(Task.Run(() => FakeRouterAsync(server, new PCG((uint)index, seed), hostileWelcome: index > 1,
                () => Interlocked.Decrement(ref budget) >= 0, () => Interlocked.Read(ref budget) > 0, stats, end.Token)));
            return Task.FromResult<IWampTransport>(client);
        }

        var options = new WampSessionOptions
        {
            Reconnect = new WampReconnectPolicy { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) },
            RetryPolicy = WampRetryPolicy.None,
            MaxMessageSize = MaxMessageSize,
            OperationTimeout = TimeSpan.FromSeconds(5),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            LoggerFactory = log,
            OnHandlerError = handlerErrors.Enqueue,
        };
        var clock = Stopwatch.StartNew();
        var session = await WampSession.JoinAsync(Connect, "realm1", options);
        // The routers turn hostile once the session has registered: subscribe first.
        await using var subscription = await session.SubscribeAsync("com.example.topic", (e, ct) =>
        {
            Interlocked.Increment(ref stats.Events);
            return ValueTask.CompletedTask;
        });
        await using var registration = await session.RegisterAsync("com.example.echo", static (inv, ct) => ValueTask.FromResult(inv.Payload));

        // The application calls throughout; each call ends in a result, a WAMP error, a lost connection or its time
        // limit, and nothing else.
        var callers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Read(ref budget) > 0)
            {
                Interlocked.Increment(ref stats.Calls);
                try
                {
                    await session.CallAsync("com.example.remote", WampPayload.FromJson("[\"ping\"]"),
                        new WampCallOptions { Timeout = TimeSpan.FromMilliseconds(500) }).WaitAsync(Bound);
                    Interlocked.Increment(ref stats.CallsAnswered);
                }
                catch (WampException)
                {
                    Interlocked.Increment(ref stats.CallErrors);
                }
                catch (TimeoutException)
                {
                    Interlocked.Increment(ref stats.CallTimeouts);
                }
                catch (WampConnectionException)
                {
                    // Reconnecting: call again once the session is joined.
                    Interlocked.Increment(ref stats.CallsLost);
                    using var connected = new CancellationTokenSource(Bound);
                    await session.WaitUntilConnectedAsync(connected.Token);
                }
                catch (Exception e)
                {
                    unexpected.Enqueue(e.ToString());
                }
            }
        })).ToList();

        await Task.WhenAll(callers).WaitAsync(TimeSpan.FromMinutes(3));
        clock.Stop();
        var faulted = routers.Where(t => t.IsFaulted).Select(t => t.Exception!.ToString()).FirstOrDefault();
        Assert.True(faulted is null, faulted);

        // The routers behave from here on: the session works again.
        using (var connected = new CancellationTokenSource(Bound)) await session.WaitUntilConnectedAsync(connected.Token);
        var result = await session.CallAsync("com.example.remote", WampPayload.FromJson("[\"after\"]")).WaitAsync(Bound);
        Assert.Equal("[\"after\"]", Encoding.UTF8.GetString(result.Payload.ArgumentsJson.Span));
        await session.DisposeAsync();
        end.Cancel();
        await Task.WhenAll(routers).WaitAsync(Bound);

        Report($"session fuzz: {stats.Frames:N0} hostile frames in {clock.Elapsed.TotalSeconds:0.0} s over {stats.Connections:N0} connections; " +
               $"the session aborted {stats.ClientAborts:N0} of them, answered {stats.Markers:N0} markers and {stats.Invocations:N0} other invocations " +
               $"(and {stats.Errors:N0} with ERROR), handled {stats.Events:N0} events; its {stats.Calls:N0} calls: {stats.CallsAnswered:N0} answered, " +
               $"{stats.CallErrors:N0} failed with an ERROR, {stats.CallsLost:N0} with the connection lost, {stats.CallTimeouts:N0} at their time limit");
        Report($"session fuzz: session log: {log.Summary()}");

        Assert.True(stats.Frames >= FrameCount, $"only {stats.Frames} of {FrameCount} frames were sent");
        Assert.True(unexpected.IsEmpty, "a call failed with an unexpected exception:\n" + string.Join("\n\n", unexpected.Take(5)));
        Assert.True(log.Failures.IsEmpty, "the session failed unexpectedly:\n" + string.Join("\n\n", log.Failures));
        var odd = handlerErrors.Where(e => e is not WampConnectionException).Select(e => e.ToString()).Take(5).ToList();
        Assert.True(odd.Count == 0, "unexpected errors reported to OnHandlerError:\n" + string.Join("\n\n", odd));
        var unobserved = UnobservedExceptions.FromLibrary();
        Assert.True(unobserved.Count == 0, string.Join("\n\n", unobserved));
    }

    /// <summary>
    /// One connection's router: welcomes the session (or, now and then, answers its HELLO with a hostile frame), answers
    /// its requests, and while the budget lasts sends a hostile frame and then a marker INVOCATION, reading until the
    /// marker's YIELD (the connection works) or the session's ABORT or close. Without budget it only answers.
    /// </summary>
    private static async Task FakeRouterAsync(InMemoryTransport server, PCG pcg, bool hostileWelcome, Func<bool> take, Func<bool> hostile,
        Stats stats, CancellationToken end)
    {
        var frames = WampFuzz.Frames(toRouter: false, maxHuge: MaxMessageSize);
        var state = new Connection();
        try
        {
            var hello = await ReceiveAsync(server, end);
            if (hello is null) return;
            Assert.Equal(WampMessageType.Hello, hello.Value.Type);
            if (hostileWelcome && pcg.Next(10) == 0 && take())
            {
                Interlocked.Increment(ref stats.Frames);
                await server.SendAsync(frames.Draw(pcg), CancellationToken.None);
            }
            else
            {
                await SendAsync(server, """[2, 4242, {"roles": {"dealer": {"features": {"call_canceling": true, "progressive_call_results": true}}, "broker": {}}}]""");
            }
            long marker = FirstMarker;
            while (!end.IsCancellationRequested)
            {
                if (state.Registration != 0 && take())
                {
                    Interlocked.Increment(ref stats.Frames);
                    await server.SendAsync(Aimed(pcg, frames, state), CancellationToken.None);
                    marker++;
                    await SendAsync(server, $"[68, {marker}, {state.Registration}, {{}}, [\"marker\"]]");
                    using var bound = CancellationTokenSource.CreateLinkedTokenSource(end);
                    bound.CancelAfter(Bound);
                    while (true)
                    {
                        WampMessage? m;
                        try
                        {
                            m = await ReceiveAsync(server, bound.Token);
                        }
                        catch (OperationCanceledException) when (!end.IsCancellationRequested)
                        {
                            throw new TimeoutException($"the session did not answer the marker INVOCATION within {Bound.TotalSeconds} s");
                        }
                        if (m is null || !await AnswerAsync(server, m.Value, state, stats, pcg, hostile())) return;
                        if (m.Value.Type == WampMessageType.Yield && m.Value.Id1 == marker)
                        {
                            Interlocked.Increment(ref stats.Markers);
                            break;
                        }
                    }
                }
                else
                {
                    var m = await ReceiveAsync(server, end);
                    if (m is null || !await AnswerAsync(server, m.Value, state, stats, pcg, hostile())) return;
                }
            }
        }
        catch (OperationCanceledException) when (end.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The session closed the connection while a frame was on its way.
        }
        finally
        {
            server.Abort();
        }
    }

    /// <summary>What one connection's router knows of its session: its registration, subscription and pending calls.</summary>
    private sealed class Connection
    {
        public long Registration, Subscription, LastId = 100;
        public readonly List<long> PendingCalls = [];
    }

    /// <summary>A hostile frame, or one aimed at what the session has in flight, its ids right and the rest hostile.</summary>
    private static byte[] Aimed(PCG pcg, Gen<byte[]> frames, Connection state)
    {
        string Dict() => WampFuzz.Dict.Draw(pcg);
        string Payload() => WampFuzz.Payload.Draw(pcg);
        switch (pcg.Next(10))
        {
            case 0:
            case 1:
                return Encoding.UTF8.GetBytes($"[68, {1 + pcg.Next(1000)}, {state.Registration}, {Dict()}{Payload()}]");
            case 2:
            case 3:
                if (state.Subscription == 0) goto default;
                return Encoding.UTF8.GetBytes($"[36, {state.Subscription}, {1 + pcg.Next(1000)}, {Dict()}{Payload()}]");
            case 4:
            case 5:
                if (state.PendingCalls.Count == 0) goto default;
                long call = state.PendingCalls[(int)pcg.Next((uint)state.PendingCalls.Count)];
                return Encoding.UTF8.GetBytes(pcg.Next(2) == 0
                    ? $"[50, {call}, {Dict()}{Payload()}]"
                    : $"[8, 48, {call}, {Dict()}, {WampFuzz.Uri.Draw(pcg)}{Payload()}]");
            default:
                return frames.Draw(pcg);
        }
    }

    /// <summary>Answers what the session sent as a plain router would; false once the session has closed the connection.</summary>
    private static async Task<bool> AnswerAsync(InMemoryTransport server, WampMessage m, Connection state, Stats stats, PCG pcg, bool hostile)
    {
        switch (m.Type)
        {
            case WampMessageType.Register:
                long registration = ++state.LastId;
                if (m.Uri == "com.example.echo") state.Registration = registration;
                await SendAsync(server, $"[65, {m.Id1}, {registration}]");
                break;
            case WampMessageType.Subscribe:
                state.Subscription = ++state.LastId;
                await SendAsync(server, $"[33, {m.Id1}, {state.Subscription}]");
                break;
            case WampMessageType.Unregister:
                await SendAsync(server, $"[67, {m.Id1}]");
                break;
            case WampMessageType.Unsubscribe:
                await SendAsync(server, $"[35, {m.Id1}]");
                break;
            case WampMessageType.Call:
                // While hostile, half the calls are left for the hostile frames to answer (or for their time limit).
                if (hostile && pcg.Next(2) == 0) state.PendingCalls.Add(m.Id1);
                else await server.SendAsync(WampFrameWriter.Start(WampMessageType.Result).Id(m.Id1).EmptyDict().Payload(m.Payload).ToFrame(pooled: false).Memory, CancellationToken.None);
                break;
            case WampMessageType.Cancel:
                state.PendingCalls.Remove(m.Id1);
                await SendAsync(server, $"[8, 48, {m.Id1}, {{}}, \"wamp.error.canceled\"]");
                break;
            case WampMessageType.Yield:
                Interlocked.Increment(ref stats.Invocations);
                break;
            case WampMessageType.Error:
                Interlocked.Increment(ref stats.Errors);
                break;
            case WampMessageType.Goodbye:
                Interlocked.Increment(ref stats.Goodbyes);
                await SendAsync(server, "[6, {}, \"wamp.close.goodbye_and_out\"]");
                return false;
            case WampMessageType.Abort:
                Interlocked.Increment(ref stats.ClientAborts);
                return false;
        }
        return true;
    }

    private static async Task<WampMessage?> ReceiveAsync(InMemoryTransport server, CancellationToken cancellationToken)
    {
        var r = await server.ReceiveAsync(cancellationToken);
        if (r.IsClosed) return null;
        // What the session sends must always parse.
        return WampMessageParser.Parse(r.Message);
    }

    private static async Task SendAsync(InMemoryTransport server, string json) =>
        await server.SendAsync(Encoding.UTF8.GetBytes(json), CancellationToken.None);

    private void Report(string line) => FuzzReport.Write(output, line);
}
