using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts;

public sealed partial class WampSession
{
    // Every outgoing message goes through this queue to the single writer loop, so senders never contend for
    // the transport and a burst of messages is written back to back.
    private readonly FrameSender _outgoing = new();

    /// <summary>Queues a frame for the writer loop; false (and the frame released) once the session has ended.</summary>
    private bool TryEnqueue(WampFrame frame) => _outgoing.TryEnqueue(frame);

    private async Task WriteLoopAsync()
    {
        try
        {
            await _outgoing.RunAsync(_transport, _stopped.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Terminate(WampConnectionException.TransportLost, $"The connection to the router was lost while sending: {e.Message}", e);
        }
    }
}
