using System.Threading.Channels;
using WampContracts.Protocol;

namespace WampContracts;

public sealed partial class WampSession
{
    // Every outgoing message goes through this queue to the single writer loop, so senders never contend for
    // the transport and a burst of messages is written back to back.
    private readonly Channel<WampFrame> _outgoing;

    /// <summary>Queues a frame for the writer loop; false (and the frame released) once the session has ended.</summary>
    private bool TryEnqueue(WampFrame frame)
    {
        if (_outgoing.Writer.TryWrite(frame)) return true;
        frame.Release();
        return false;
    }

    private async Task WriteLoopAsync()
    {
        var reader = _outgoing.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // Drain everything queued before waiting again.
                while (reader.TryRead(out var frame))
                {
                    try
                    {
                        await _transport.SendAsync(frame.Memory, _stopped.Token).ConfigureAwait(false);
                    }
                    finally
                    {
                        frame.Release();
                    }
                }
            }
        }
        catch (Exception e)
        {
            Terminate(WampConnectionException.TransportLost, $"The connection to the router was lost while sending: {e.Message}", e);
            while (reader.TryRead(out var frame)) frame.Release();
        }
    }
}
