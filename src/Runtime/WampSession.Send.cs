using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

public sealed partial class WampSession
{
    // Every outgoing message goes through the connection's queue to its single writer loop, so senders never
    // contend for the transport and a burst of messages is written back to back.

    /// <summary>Queues a frame for the writer loop; false (and the frame released) while disconnected or once ended.</summary>
    private bool TryEnqueue(WampFrame frame) => _connection.Sender.TryEnqueue(frame);

    private async Task WriteLoopAsync(Connection connection)
    {
        try
        {
            await connection.Sender.RunAsync(connection.Transport, connection.Stopped.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            ConnectionLost(connection, WampConnectionException.TransportLost, $"The connection to the router was lost while sending: {e.Message}", e);
        }
    }
}
