using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace WampContracts.Testing;

/// <summary>
/// Counts what is logged at Warning and above by event id, keeping whole only the events that mean an unexpected
/// failure (<paramref name="failureIds"/>), so a long fuzz run holds no log.
/// </summary>
public sealed class CountingLoggerFactory(params int[] failureIds) : ILoggerFactory, ILogger
{
    private readonly ConcurrentDictionary<int, long> _counts = new();

    public ConcurrentQueue<string> Failures { get; } = new();

    public string Summary() => string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"event {c.Key} × {c.Value:N0}"));

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        _counts.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
        if (failureIds.Contains(eventId.Id) && Failures.Count < 20) Failures.Enqueue(formatter(state, exception) + "\n" + exception);
    }
}
