using WampContracts.Protocol;

namespace WampContracts;

public sealed partial class WampSession
{
    /// <summary>
    /// Sends a control request (REGISTER, SUBSCRIBE, their reverses, acknowledged PUBLISH) and waits for its answer,
    /// bounded by <see cref="WampSessionOptions.OperationTimeout"/>. <paramref name="state"/> is applied by the reader
    /// as the answer arrives, before any message that depends on it.
    /// </summary>
    private async Task<WampMessage> SendRequestAsync(long requestId, WampFrame frame, WampMessageType answerType, object? state, CancellationToken cancellationToken)
    {
        // One connection for both: the request waits in the table of the connection it is sent on.
        var connection = _connection;
        var pending = connection.Pending;
        var request = new PendingAck(this, answerType, state);
        if (!pending.TryAdd(requestId, request))
        {
            frame.Release();
            throw NotConnected();
        }
        // Lost meanwhile: if the loss already took the entry, it failed the request, and the wait below throws that.
        if (!connection.Sender.TryEnqueue(frame) && pending.TryRemove(requestId, request))
            throw NotConnected();
        try
        {
            return await request.Task.WaitAsync(_options.OperationTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            pending.TryRemove(requestId, request);
            request.Forget();
            throw new TimeoutException($"The router did not answer {answerType switch
            {
                WampMessageType.Registered => "REGISTER",
                WampMessageType.Unregistered => "UNREGISTER",
                WampMessageType.Subscribed => "SUBSCRIBE",
                WampMessageType.Unsubscribed => "UNSUBSCRIBE",
                _ => "PUBLISH",
            }} within {_options.OperationTimeout.TotalMilliseconds:0} ms.");
        }
        catch (OperationCanceledException)
        {
            pending.TryRemove(requestId, request);
            request.Forget();
            throw;
        }
    }

    /// <summary>Applied on the reader loop when a control request is acknowledged.</summary>
    private void OnAcknowledged(in WampMessage answer, object? state)
    {
        switch (state)
        {
            case RegisteredProcedure procedure:
                procedure.RegistrationId = answer.Id2;
                _registrations[answer.Id2] = procedure;
                break;
            case SubscriptionHandler[] handlers:
                foreach (var handler in handlers) AddSubscriptionHandler(answer.Id2, handler);
                break;
        }
    }

    private sealed class PendingAck(WampSession session, WampMessageType answerType, object? state) : PendingRequest
    {
        private readonly TaskCompletionSource<WampMessage> _tcs = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<WampMessage> Task => _tcs.Task;

        /// <summary>Nobody waits any more: an answer that still fails it must not surface as an unobserved exception.</summary>
        public void Forget() =>
            _tcs.Task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

        public override void OnAnswer(in WampMessage message)
        {
            if (message.Type != answerType)
            {
                _tcs.TrySetException(new WampProtocolException($"The router answered a request expecting {answerType} with {message.Type}."));
                return;
            }
            session.OnAcknowledged(message, state);
            _tcs.TrySetResult(message);
        }

        public override void OnError(in WampMessage message) => _tcs.TrySetException(ToException(message));

        public override void Fail(Exception error) => _tcs.TrySetException(error);
    }
}
