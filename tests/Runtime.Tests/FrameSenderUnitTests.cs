using System.Text;
using WampContracts.Protocol;
using WampContracts.Transport;

namespace WampContracts.Tests;

public class FrameSenderUnitTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    private static async ValueTask YieldAsync() => await Task.Yield();

    private static WampFrame Frame(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        return new WampFrame(bytes, bytes.Length, pooled: false);
    }

    /// <summary>Records what is sent and by which thread; fails the test if two sends overlap.</summary>
    private sealed class RecordingTransport : IWampTransport
    {
        private int _inSend;

        public List<string> Sent { get; } = [];
        public List<int> Threads { get; } = [];
        public Func<int, ValueTask>? Behaviour { get; init; }
        public bool Overlapped { get; private set; }

        public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _inSend, 1) != 0) Overlapped = true;
            int index;
            lock (Sent)
            {
                index = Sent.Count;
                Sent.Add(Encoding.UTF8.GetString(message.Span));
                Threads.Add(Environment.CurrentManagedThreadId);
            }
            try
            {
                if (Behaviour is not null) await Behaviour(index);
            }
            finally
            {
                Volatile.Write(ref _inSend, 0);
            }
        }

        public ValueTask<WampReceiveResult> ReceiveAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask CloseAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public void Abort() { }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    [Fact]
    public void A_frame_queued_while_nobody_writes_is_written_at_once_on_the_queuing_thread()
    {
        var transport = new RecordingTransport();
        var sender = new FrameSender();
        var run = sender.RunAsync(transport, CancellationToken.None);

        Assert.True(sender.TryEnqueue(Frame("[1]")));

        // No hop to another thread: the send happened inside TryEnqueue.
        Assert.Equal(["[1]"], transport.Sent);
        Assert.Equal([Environment.CurrentManagedThreadId], transport.Threads);
        Assert.Equal(0, sender.QueuedCount);
        Assert.Equal(0, sender.QueuedBytes);
        Assert.False(run.IsCompleted);
    }

    [Fact]
    public async Task Completing_a_sender_writes_the_frames_a_readers_batch_deferred_without_waiting_for_the_batch_to_end()
    {
        var transport = new RecordingTransport();
        var sender = new FrameSender();
        var run = sender.RunAsync(transport, CancellationToken.None);
        var batch = new SendBatch();
        SendBatch.Begin(batch);
        try
        {
            // An ABORT queued inside a reader's batch waits for the batch's end...
            Assert.True(sender.TryEnqueue(Frame("[3]")));
            Assert.Empty(transport.Sent);
            // ...unless the session ends first: its last frames leave as it completes.
            sender.Complete();
            Assert.Equal(["[3]"], transport.Sent);
            await run.WaitAsync(Bound);
        }
        finally
        {
            SendBatch.End(); // the batch's end finds nothing more to write
        }
        Assert.Equal(["[3]"], transport.Sent);
    }

    [Fact]
    public async Task Frames_of_concurrent_senders_are_written_one_at_a_time_and_each_sender_s_in_order()
    {
        // Every third send completes asynchronously, so writing passes between threads.
        var transport = new RecordingTransport { Behaviour = i => i % 3 == 0 ? YieldAsync() : ValueTask.CompletedTask };
        var sender = new FrameSender();
        var run = sender.RunAsync(transport, CancellationToken.None);
        const int Senders = 4, PerSender = 500;

        await Task.WhenAll(Enumerable.Range(0, Senders).Select(s => Task.Run(() =>
        {
            for (int i = 0; i < PerSender; i++) Assert.True(sender.TryEnqueue(Frame($"[{s},{i}]")));
        })));
        sender.Complete();
        await run.WaitAsync(Bound);

        Assert.False(transport.Overlapped);
        Assert.Equal(Senders * PerSender, transport.Sent.Count);
        for (int s = 0; s < Senders; s++)
        {
            var mine = transport.Sent.Where(x => x.StartsWith($"[{s},", StringComparison.Ordinal)).ToList();
            Assert.Equal(Enumerable.Range(0, PerSender).Select(i => $"[{s},{i}]"), mine);
        }
        Assert.Equal(0, sender.QueuedCount);
        Assert.Equal(0, sender.QueuedBytes);
    }

    [Fact]
    public async Task Frames_queued_before_the_writer_starts_and_behind_a_pending_send_are_written_before_Complete_ends_it()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var transport = new RecordingTransport { Behaviour = i => i == 0 ? new ValueTask(gate.Task) : ValueTask.CompletedTask };
        var sender = new FrameSender();
        Assert.True(sender.TryEnqueue(Frame("[1]")));
        Assert.Empty(transport.Sent); // nobody writes before RunAsync

        var run = sender.RunAsync(transport, CancellationToken.None);
        Assert.True(sender.TryEnqueue(Frame("[2]")));
        Assert.True(sender.TryEnqueue(Frame("[3]")));
        sender.Complete();
        Assert.False(sender.TryEnqueue(Frame("[4]")));

        Assert.Equal(["[1]"], transport.Sent); // the first send is still pending: the others wait behind it
        Assert.Equal(2 + 1, sender.QueuedCount); // what waits, and the frame in flight
        Assert.False(run.IsCompleted);
        gate.SetResult();
        await run.WaitAsync(Bound);

        Assert.Equal(["[1]", "[2]", "[3]"], transport.Sent);
        Assert.Equal(0, sender.QueuedCount);
    }

    [Fact]
    public async Task A_failed_send_ends_the_writer_with_its_error_and_drops_what_is_queued_and_what_comes_later()
    {
        var transport = new RecordingTransport { Behaviour = i => i == 1 ? ValueTask.FromException(new IOException("broken pipe")) : ValueTask.CompletedTask };
        var sender = new FrameSender();
        for (int i = 1; i <= 4; i++) Assert.True(sender.TryEnqueue(Frame($"[{i}]")));

        var error = await Assert.ThrowsAsync<IOException>(() => sender.RunAsync(transport, CancellationToken.None).WaitAsync(Bound));

        Assert.Equal("broken pipe", error.Message);
        Assert.Equal(["[1]", "[2]"], transport.Sent);
        Assert.Equal(0, sender.QueuedCount);
        Assert.Equal(0, sender.QueuedBytes);
        Assert.False(sender.TryEnqueue(Frame("[5]")));
    }

    [Fact]
    public async Task A_canceled_writer_ends_with_the_cancellation_and_drops_what_waits()
    {
        // Continuations run inline: once SetResult returns, the send in flight has ended and the writer has stopped.
        var gate = new TaskCompletionSource();
        var transport = new RecordingTransport { Behaviour = _ => new ValueTask(gate.Task) };
        var sender = new FrameSender();
        using var cts = new CancellationTokenSource();
        var run = sender.RunAsync(transport, cts.Token);
        Assert.True(sender.TryEnqueue(Frame("[1]")));
        Assert.True(sender.TryEnqueue(Frame("[2]")));

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Bound));
        Assert.False(sender.TryEnqueue(Frame("[3]")));
        // Completed from a thread without a synchronization context (the test's has one), so the writer's continuation
        // runs inline, within SetResult, rather than being queued.
        await Task.Run(gate.SetResult);

        Assert.Equal(["[1]"], transport.Sent);
        Assert.Equal(0, sender.QueuedCount);
        Assert.Equal(0, sender.QueuedBytes);
    }
}
