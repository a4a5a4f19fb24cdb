using System.Net;
using System.Net.Sockets;
using WampContracts.Transport;

namespace WampContracts.Tests;

public class SocketChannelUnitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>A connected pair on loopback: our end as a channel with a reader thread reserved, and the peer's socket.</summary>
    private static async Task<(SocketChannel Channel, Socket Peer)> PairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accepted = listener.AcceptAsync();
        Assert.True(SocketChannel.TryReserve());
        var ours = await SocketChannel.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port, Bound, CancellationToken.None);
        return (new SocketChannel(ours), await accepted.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_read_asked_on_another_connections_reader_does_not_wait_behind_that_connections_read()
    {
        var (idle, idlePeer) = await PairAsync();
        var (other, otherPeer) = await PairAsync();
        var (bound, boundPeer) = await PairAsync();
        using (idlePeer)
        using (otherPeer)
        using (boundPeer)
        {
            // The bound channel's loop stays alive (it waits for the end of the test), so its reader thread is its own.
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var boundLoop = ReaderThread.Start(bound, () => release.Task);

            var asked = new TaskCompletionSource<(Task<int> Other, Task<int> Bound)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var idleLoop = ReaderThread.Start(idle, async () =>
            {
                // This connection's read waits first; then code running on its reader thread reads two other channels:
                // one no reader loop has taken yet, and one whose loop runs on another reader thread.
                var own = idle.ReadAsync(new byte[16], CancellationToken.None);
                asked.SetResult((other.ReadAsync(new byte[16], CancellationToken.None).AsTask(),
                    bound.ReadAsync(new byte[16], CancellationToken.None).AsTask()));
                Assert.Equal(1, await own);
            });
            var (otherRead, boundRead) = await asked.Task.WaitAsync(Bound);
            otherPeer.Send("x"u8);
            boundPeer.Send("yz"u8);
            // The idle connection's peer has sent nothing: had the reads queued behind its wait, neither would end.
            Assert.Equal(1, await otherRead.WaitAsync(Bound));
            Assert.Equal(2, await boundRead.WaitAsync(Bound));
            Assert.False(idleLoop.IsCompleted);

            idlePeer.Send("!"u8);
            await idleLoop.WaitAsync(Bound);
            release.SetResult();
            await boundLoop.WaitAsync(Bound);
        }
        idle.Abort();
        other.Abort();
        bound.Abort();
    }
}
