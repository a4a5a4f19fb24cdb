using System.Text;
using WampContracts.Protocol;

namespace WampContracts.Router.Tests;

/// <summary>Memory measured on the managed heap, so these run alone, with no other test allocating beside them.</summary>
[CollectionDefinition(nameof(MemoryBoundTests), DisableParallelization = true)]
public sealed class MemoryCollection;

/// <summary>What a client can make the router hold is bounded in bytes, not only in messages.</summary>
[Collection(nameof(MemoryBoundTests))]
public class MemoryBoundTests
{
    private const long MiB = 1024 * 1024;

    private static long LiveBytes() => GC.GetTotalMemory(forceFullCollection: true);

    [Fact]
    public async Task A_subscriber_that_never_reads_64_KiB_events_is_cut_off_at_the_byte_bound()
    {
        const long bound = 16 * MiB;
        var log = new CapturingLoggerFactory();
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { MaxQueuedBytesPerSession = bound, LoggerFactory = log });
        await using var subscriber = await SocketClient.JoinAsync(router.Url!);
        await subscriber.SendAsync("""[32, 1, {}, "com.example.big"]""");
        await subscriber.ReceiveAsync(WampMessageType.Subscribed);
        // From here on the subscriber reads nothing: the operating system's buffers fill, then the router's queue.
        await using var publisher = await SocketClient.JoinAsync(router.Url!);
        byte[] publish = Encoding.UTF8.GetBytes($$"""[16, 1, {"acknowledge": true}, "com.example.big", ["{{new string('x', 64 * 1024)}}"]]""");

        long baseline = LiveBytes(), peak = 0;
        int published = 0;
        // Past 4,000 events (250 MiB) without a cut-off, the bound does not hold.
        while (published < 4_000 && !log.Entries.Any(e => e.Id.Id == 2003))
        {
            await publisher.SendAsync(publish);
            await publisher.ReceiveAsync(WampMessageType.Published);
            if (++published % 50 == 0) peak = Math.Max(peak, LiveBytes() - baseline);
        }
        peak = Math.Max(peak, LiveBytes() - baseline);

        Assert.Contains(log.Entries, e => e.Id.Id == 2003);
        Assert.True(peak < bound + 100 * MiB, $"the router held {peak / MiB} MiB more at its peak (bound {bound / MiB} MiB)");
        await subscriber.DrainUntilClosedAsync(); // what the network still held, then the close
        Console.WriteLine($"cut off after {published} events of 64 KiB; peak managed memory +{peak / MiB} MiB (bound {bound / MiB} MiB)");
    }

    [Fact]
    public async Task Sessions_idle_after_one_4_MiB_message_each_hold_no_large_receive_buffers()
    {
        await using var router = await WampRouter.StartAsync(new WampRouterOptions { MaxMessageSize = 4 * (int)MiB + 1024 });
        var clients = new List<SocketClient>();
        try
        {
            for (int i = 0; i < 150; i++) clients.Add(await SocketClient.JoinAsync(router.Url!));
            byte[] call = Encoding.UTF8.GetBytes($$"""[48, 1, {}, "com.example.none", ["{{new string('x', 4 * 1024 * 1024 - 64)}}"]]""");
            long baseline = LiveBytes();
            foreach (var client in clients)
            {
                await client.SendAsync(call);
                Assert.Equal(WampUris.NoSuchProcedure, (await client.ReceiveAsync(WampMessageType.Error)).Uri);
            }
            long held = LiveBytes() - baseline;
            Assert.True(held < 100 * MiB, $"150 idle sessions hold {held / MiB} MiB after one 4 MiB message each");
            Console.WriteLine($"150 idle sessions after one 4 MiB message each: +{held / MiB} MiB managed memory");
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}
