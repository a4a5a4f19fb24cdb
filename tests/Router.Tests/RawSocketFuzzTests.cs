using System.Diagnostics;
using System.Text;
using CsCheck;
using WampContracts.Protocol;
using WampContracts.Serialization;
using WampContracts.Testing;
using Xunit.Abstractions;

namespace WampContracts.Router.Tests;

/// <summary>
/// A live router's RawSocket listener under hostile frames: the hostile WAMP messages of <see cref="WampFuzz.Frames"/>
/// in MessagePack and CBOR (transcoded where they are JSON, mutated byte by byte), in frames with honest, lying or
/// reserved-bit headers, some cut short. Every frame is followed by a marker request whose answer (or the connection's
/// close) shows the router dealt with it; an attacker whose connection ends reconnects. The router logs no unexpected
/// failure (event 2004), answers within a bound, and a well-behaved RawSocket session works after the run.
/// <c>WAMP_FUZZ_SEED</c> replays a run.
/// </summary>
public sealed class RawSocketFuzzTests(ITestOutputHelper output)
{
    private const int Frames = 10_000;
    private static readonly TimeSpan RunBound = TimeSpan.FromMinutes(3);

    private static Gen<byte[]> Hostile(WampSerializer serializer) =>
        Gen.Select(WampFuzz.Frames(toRouter: true, maxHuge: 8 * 1024), Gen.Int[0, 9], Gen.Int[0, int.MaxValue], Gen.Byte, (json, how, at, b) =>
        {
            byte[] body;
            try
            {
                byte[] buffer = [];
                int n = serializer.FromJson(json, ref buffer);
                body = buffer.AsSpan(0, n).ToArray();
            }
            catch (WampProtocolException)
            {
                body = json;
            }
            if (how is 1 or 2 && body.Length > 0) body[at % body.Length] = b; // a flipped byte
            byte type = how == 3 ? (byte)(b & 0x07) : how == 4 ? (byte)(b & 0xf0) : (byte)0; // PING/PONG/unknown types, reserved bits
            int declared = how == 5 ? body.Length + 1 + at % 100 : body.Length; // a length larger than what follows...
            byte[] frame = [type, (byte)(declared >> 16), (byte)(declared >> 8), (byte)declared, .. body];
            return how == 6 ? frame.AsSpan(0, at % (frame.Length + 1)).ToArray() : frame; // ...or a frame cut short
        });

    [Theory]
    [InlineData("msgpack")]
    [InlineData("cbor")]
    public async Task Hostile_RawSocket_frames_never_crash_the_router(string name)
    {
        var serializer = WampSerializer.All.Single(s => s.Name == name);
        var log = new CountingLoggerFactory(2004);
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { RawSocketPort = 0, LoggerFactory = log, MaxMessageSize = 16 * 1024 });
        var frames = new List<byte[]>();
        Hostile(serializer).Sample(f => { frames.Add(f); }, iter: Frames, threads: 1, seed: Environment.GetEnvironmentVariable("WAMP_FUZZ_SEED"));

        long answered = 0, closed = 0;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(RunBound);
        RawSocketClient? client = null;
        long marker = 1;
        foreach (var frame in frames)
        {
            stop.Token.ThrowIfCancellationRequested();
            client ??= await RawSocketClient.JoinAsync(router.RawSocketUrl!, serializer);
            bool cut = frame.Length < 4 || frame.Length - 4 < (frame[1] << 16 | frame[2] << 8 | frame[3]);
            try
            {
                await client.SendRawAsync(frame);
                if (cut)
                {
                    // The rest never comes: end the connection; the router must notice and let the session go.
                    client.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                }
                else
                {
                    // UNSUBSCRIBE of a subscription nobody holds: its ERROR says the frame before it was dealt with.
                    await client.SendAsync($"[34, {marker}, 9007199254740991]");
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                // The router already closed this connection.
            }
            bool alive;
            try
            {
                alive = !cut && await UntilMarkerAsync(client, marker++);
            }
            catch (TimeoutException e)
            {
                // The frame to replay by hand: the router neither answered the marker nor closed within the bound.
                throw new TimeoutException($"No answer to the marker and no close after frame {answered + closed} ({frame.Length} bytes): {Convert.ToHexString(frame)}", e);
            }
            if (alive)
            {
                answered++;
                continue;
            }
            closed++;
            await client.DisposeAsync();
            client = null;
        }
        if (client is not null) await client.DisposeAsync();

        Assert.True(log.Failures.IsEmpty, string.Join("\n", log.Failures));
        await using (var well = await RawSocketClient.JoinAsync(router.RawSocketUrl!, serializer))
        {
            await well.SendAsync("""[32, 1, {}, "com.example.after"]""");
            Assert.Equal(WampMessageType.Subscribed, (await well.ReceiveAsync())!.Value.Type);
        }
        FuzzReport.Write(output, $"RawSocket {name} fuzz: {frames.Count:N0} frames in {clock.Elapsed.TotalSeconds:0.0} s: {answered:N0} dealt with and the session went on, " +
            $"{closed:N0} ended their connection (ABORT or close); router log: {log.Summary()}");
    }

    /// <summary>Reads until the marker's ERROR (true) or the connection's end (false); every read is bounded.</summary>
    private static async Task<bool> UntilMarkerAsync(RawSocketClient client, long marker)
    {
        while (true)
        {
            WampMessage? m;
            try
            {
                m = await client.ReceiveAsync();
            }
            catch (Exception e) when (e is WampProtocolException or System.Net.Sockets.SocketException)
            {
                return false;
            }
            if (m is null) return false;
            if (m.Value.Type == WampMessageType.Error && m.Value.Id1 == (long)WampMessageType.Unsubscribe && m.Value.Id2 == marker) return true;
            if (m.Value.Type is WampMessageType.Abort or WampMessageType.Goodbye) return await DrainAsync(client);
        }
    }

    private static async Task<bool> DrainAsync(RawSocketClient client)
    {
        await client.DrainUntilClosedAsync();
        return false;
    }
}
