using System.Net;
using System.Net.Sockets;
using WampContracts.Router.Core;
using WampContracts.Serialization;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>
/// The router's RawSocket listener: accepts TCP connections, runs the 4-byte handshake (serializer and maximum
/// message length, within <see cref="WampRouterOptions.HandshakeTimeout"/>) and serves each as a session.
/// </summary>
internal sealed class RawSocketListener(RouterCore core, Socket listener) : ConnectionListener(core, listener)
{
    /// <exception cref="IOException">The port cannot be listened on.</exception>
    public static RawSocketListener Start(RouterCore core, IPAddress address, int port) => new(core, Listen(address, port, "RawSocket"));

    protected override async Task ServeAsync(Socket socket)
    {
        RawSocketTransport? transport = null;
        bool handshaking = true;
        try
        {
            var options = Core.Options;
            var hello = new byte[4];
            using (var timeout = HandshakeBound())
            {
                int read = 0;
                while (read < 4)
                {
                    int n = await socket.ReceiveAsync(hello.AsMemory(read), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    if (n == 0) return;
                    read += n;
                }
                // Not RawSocket at all (an HTTP request, a scanner): close without an answer.
                if (hello[0] != RawSocketTransport.Magic) return;
                int error = 0;
                var serializer = WampSerializer.FromRawSocketId(hello[1] & 0x0f);
                if (hello[2] != 0 || hello[3] != 0) error = RawSocketTransport.ReservedBitsUsed;
                else if (serializer is null || !Accepts(options, serializer)) error = RawSocketTransport.SerializerUnsupported;
                else if (Core.AtConnectionLimit) error = RawSocketTransport.ConnectionLimitReached;
                if (error != 0)
                {
                    Core.Log.ConnectionRefused($"RawSocket handshake refused: {RawSocketTransport.DescribeError(error)}");
                    await socket.SendAsync(new byte[] { RawSocketTransport.Magic, (byte)(error << 4), 0, 0 }, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    socket.Shutdown(SocketShutdown.Send);
                    return;
                }
                int exponent = RawSocketTransport.LengthExponent(options.MaxMessageSize);
                await socket.SendAsync(new byte[] { RawSocketTransport.Magic, (byte)(exponent << 4 | serializer!.RawSocketId), 0, 0 }, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                transport = new RawSocketTransport(socket, serializer, options.MaxMessageSize, RawSocketTransport.MaxLength(hello[1] >> 4));
            }
            handshaking = false;
            HandshakeDone();
            await Core.ServeAsync(transport, Stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            // No handshake in time, or the peer went away: only this connection ends.
        }
        finally
        {
            if (handshaking) HandshakeDone();
            if (transport is null) socket.Dispose();
        }
    }

    internal static bool Accepts(WampRouterOptions options, WampSerializer serializer) =>
        options.Serializers is not { Count: > 0 } list || list.Contains(serializer);
}
