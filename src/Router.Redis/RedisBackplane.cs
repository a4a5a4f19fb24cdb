using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using WampContracts.Router.Backplane;

namespace WampContracts.Router.Redis;

/// <summary>Settings of a <see cref="RedisBackplane"/>.</summary>
public sealed class RedisBackplaneOptions
{
    /// <summary>The StackExchange.Redis configuration string, e.g. <c>localhost:6379</c> or <c>host:6379,password=…,ssl=true</c>.</summary>
    public string Configuration { get; set; } = "localhost:6379";

    /// <summary>The prefix of every Redis key and channel the nodes use: routers with different prefixes form different clusters on one Redis. Default <c>wampcontracts</c>.</summary>
    public string Prefix { get; set; } = "wampcontracts";

    /// <summary>
    /// How long a node may go without renewing its heartbeat before the others count it dead: they fail the calls in
    /// flight to its callees and drop its registrations at most <see cref="NodeTimeout"/> + <see cref="HeartbeatInterval"/>
    /// after it died. Default 5 s.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a node renews its heartbeat and looks for nodes that died. Default: a fifth of <see cref="NodeTimeout"/>.</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Where the backplane logs (category <c>WampContracts.Router.Redis</c>).</summary>
    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;
}

/// <summary>
/// An <see cref="IWampBackplane"/> on one Redis server: messages go over one Redis pub/sub channel (so every node sees
/// each node's messages in the order it sent them), heartbeats into a sorted set scored by expiry, claims into hashes
/// changed by Lua scripts (atomic). See docs/scale-out.md.
/// </summary>
public sealed partial class RedisBackplane : IWampBackplane
{
    private const string HeartbeatScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local ttl = tonumber(ARGV[2])
        redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
        local slot = tonumber(ARGV[3])
        if slot >= 0 then
          local holder = redis.call('GET', ARGV[4] .. ':slot:' .. slot)
          if holder and holder ~= ARGV[1] then slot = -1 else redis.call('SET', ARGV[4] .. ':slot:' .. slot, ARGV[1], 'PX', ttl) end
        end
        if slot < 0 then
          local start = tonumber(ARGV[5])
          for i = 0, 1023 do
            local s = (start + i) % 1024
            if redis.call('SET', ARGV[4] .. ':slot:' .. s, ARGV[1], 'NX', 'PX', ttl) then slot = s break end
          end
        end
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
        return {slot, redis.call('ZRANGE', KEYS[1], 0, -1)}
        """;

    // KEYS: the claim, this node's claim set, the node set. ARGV: node, policy, 1 (hold) or 0 (release).
    private const string ClaimScript = """
        local field = 'n:' .. ARGV[1]
        if ARGV[3] == '1' then
          local cur = redis.call('HGET', KEYS[1], 'policy')
          if cur then
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local others = false
            for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
              if f ~= 'policy' and f ~= field then
                local score = redis.call('ZSCORE', KEYS[3], string.sub(f, 3))
                if score and tonumber(score) >= now then others = true else redis.call('HDEL', KEYS[1], f) end
              end
            end
            if others and (cur ~= ARGV[2] or string.sub(ARGV[2], 1, 6) == 'single') then return cur end
          end
          redis.call('HSET', KEYS[1], 'policy', ARGV[2], field, '1')
          redis.call('SADD', KEYS[2], KEYS[1])
          return false
        end
        redis.call('HDEL', KEYS[1], field)
        redis.call('SREM', KEYS[2], KEYS[1])
        if redis.call('HLEN', KEYS[1]) <= 1 then redis.call('DEL', KEYS[1]) end
        return false
        """;

    // KEYS: the dead node's claim set. ARGV: the node.
    private const string DropNodeScript = """
        for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
          redis.call('HDEL', k, 'n:' .. ARGV[1])
          if redis.call('HLEN', k) <= 1 then redis.call('DEL', k) end
        end
        redis.call('DEL', KEYS[1])
        return false
        """;

    private readonly RedisBackplaneOptions _options;
    private readonly TimeSpan _interval;
    private readonly ILogger _log;
    private readonly RedisChannel _channel;
    private readonly RedisKey _nodesKey;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _availability = new();
    private ConnectionMultiplexer? _redis;
    private IWampBackplaneHost? _host;
    private Task _loop = Task.CompletedTask;
    private volatile bool _available;
    private int _slot = -1;
    private int _started;

    public RedisBackplane(RedisBackplaneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NodeTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(options), "NodeTimeout must be positive.");
        _options = options;
        _interval = options.HeartbeatInterval ?? options.NodeTimeout / 5;
        if (_interval <= TimeSpan.Zero || _interval >= options.NodeTimeout)
            throw new ArgumentOutOfRangeException(nameof(options), "HeartbeatInterval must be positive and shorter than NodeTimeout.");
        _log = options.LoggerFactory.CreateLogger("WampContracts.Router.Redis");
        _channel = RedisChannel.Literal(options.Prefix + ":bus");
        _nodesKey = options.Prefix + ":nodes";
        NodeId = Random.Shared.NextInt64(1, long.MaxValue);
    }

    /// <summary>A backplane on the Redis server(s) of a StackExchange.Redis configuration string (e.g. <c>localhost:6379</c>).</summary>
    public static RedisBackplane FromConfiguration(string configuration, TimeSpan nodeTimeout) =>
        new(new RedisBackplaneOptions { Configuration = configuration, NodeTimeout = nodeTimeout });

    public long NodeId { get; }

    public int NodeSlot => Volatile.Read(ref _slot);

    public TimeSpan NodeTimeout => _options.NodeTimeout;

    /// <summary>The bound within which the other nodes notice this node died: <see cref="NodeTimeout"/> plus one heartbeat interval.</summary>
    public TimeSpan DeathBound => _options.NodeTimeout + _interval;

    public bool IsAvailable => _available && _redis is { IsConnected: true };

    public void Start(IWampBackplaneHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException("A backplane serves one router.");
        _host = host;
        _loop = RunAsync(_stop.Token);
    }

    public Task BroadcastAsync(ReadOnlyMemory<byte> message)
    {
        var redis = _redis;
        if (redis is null || !IsAvailable) return Task.FromException(new WampBackplaneException("the Redis backplane is unreachable"));
        RedisValue value = MemoryMarshal.TryGetArray(message, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array : message.ToArray();
        return Wrap(redis.GetSubscriber().PublishAsync(_channel, value));
    }

    public async Task<string?> SetClaimAsync(string key, string policy, bool held)
    {
        var redis = _redis;
        if (redis is null || !IsAvailable) throw new WampBackplaneException("the Redis backplane is unreachable");
        try
        {
            var result = await redis.GetDatabase().ScriptEvaluateAsync(ClaimScript,
                [_options.Prefix + ":claim:" + key, ClaimSetKey(NodeId), _nodesKey],
                [NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture), policy, held ? "1" : "0"]).ConfigureAwait(false);
            return result.IsNull ? null : (string?)result;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new WampBackplaneException($"the Redis backplane failed: {e.Message}", e);
        }
    }

    private RedisKey ClaimSetKey(long node) => $"{_options.Prefix}:node:{node}:claims";

    private static async Task Wrap(Task<long> publish)
    {
        try
        {
            await publish.ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new WampBackplaneException($"the Redis backplane failed: {e.Message}", e);
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var host = _host!;
        var configuration = ConfigurationOptions.Parse(_options.Configuration);
        configuration.AbortOnConnectFail = false;
        // Bounded waits: a Redis that went away fails each operation within the node timeout.
        int ms = (int)Math.Clamp(_options.NodeTimeout.TotalMilliseconds, 100, int.MaxValue);
        configuration.ConnectTimeout = ms;
        configuration.SyncTimeout = ms;
        configuration.AsyncTimeout = ms;
        configuration.ReconnectRetryPolicy = new LinearRetry((int)Math.Max(100, _interval.TotalMilliseconds));
        try
        {
            _redis = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            _redis.ConnectionFailed += (_, _) => SetAvailable(false);
            var queue = await SubscribeAsync(stop).ConfigureAwait(false);
            // One message at a time, in the order Redis delivers them.
            queue.OnMessage(m =>
            {
                try
                {
                    host.OnMessage((ReadOnlyMemory<byte>)m.Message);
                }
                catch (Exception e)
                {
                    LogMessageFailed(_log, e);
                }
            });
            await HeartbeatAsync(host, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<ChannelMessageQueue> SubscribeAsync(CancellationToken stop)
    {
        while (true)
        {
            try
            {
                return await _redis!.GetSubscriber().SubscribeAsync(_channel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogUnavailable(_log, e.Message);
                await Task.Delay(_interval, stop).ConfigureAwait(false);
            }
        }
    }

    private async Task HeartbeatAsync(IWampBackplaneHost host, CancellationToken stop)
    {
        var known = new HashSet<long>();
        string node = NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (!stop.IsCancellationRequested)
        {
            RedisResult[]? result = null;
            try
            {
                result = (RedisResult[]?)await _redis!.GetDatabase().ScriptEvaluateAsync(HeartbeatScript, [_nodesKey],
                    [node, (long)_options.NodeTimeout.TotalMilliseconds, NodeSlot, _options.Prefix, Random.Shared.Next(1024)]).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogUnavailable(_log, e.Message);
                SetAvailable(false);
            }
            if (result is { Length: 2 })
            {
                Volatile.Write(ref _slot, (int)result[0]);
                var live = new HashSet<long>();
                foreach (var id in (RedisResult[])result[1]!)
                    if (long.TryParse((string?)id, System.Globalization.CultureInfo.InvariantCulture, out long n) && n != NodeId) live.Add(n);
                bool restored = !_available;
                if (restored)
                {
                    // Just (re)connected: every live node is taken as it is (after an outage, the others renew their
                    // heartbeats within one interval; none is declared dead for having been unable to). Back only once
                    // this node hears the channel again: what a node sends as it comes back (its registrations, a
                    // request for everyone's) then reaches every node that came back before it, and their answers reach it.
                    if (_redis!.GetSubscriber().IsConnected(_channel))
                    {
                        known = live;
                        SetAvailable(true);
                    }
                }
                else
                {
                    foreach (long joined in live.Where(n => !known.Contains(n))) host.OnNodeJoined(joined);
                    foreach (long lost in known.Where(n => !live.Contains(n)).ToArray())
                    {
                        await DropNodeAsync(lost).ConfigureAwait(false);
                        host.OnNodeLost(lost);
                    }
                    known = live;
                }
            }
            await Task.Delay(_interval, stop).ConfigureAwait(false);
        }
    }

    private async Task DropNodeAsync(long node)
    {
        try
        {
            await _redis!.GetDatabase().ScriptEvaluateAsync(DropNodeScript, [ClaimSetKey(node)],
                [node.ToString(System.Globalization.CultureInfo.InvariantCulture)]).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Its claims are ignored anyway once its heartbeat expired.
            LogUnavailable(_log, e.Message);
        }
    }

    private void SetAvailable(bool available)
    {
        lock (_availability)
        {
            if (_available == available) return;
            _available = available;
            LogAvailability(_log, available);
            _host!.OnAvailabilityChanged(available);
        }
    }

    /// <summary>Leaves the cluster: the other nodes drop this node's registrations at their next heartbeat.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_redis is { } redis)
        {
            try
            {
                if (redis.IsConnected)
                {
                    var db = redis.GetDatabase();
                    await db.SortedSetRemoveAsync(_nodesKey, NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
                    await DropNodeAsync(NodeId).ConfigureAwait(false);
                    if (NodeSlot >= 0) await db.KeyDeleteAsync($"{_options.Prefix}:slot:{NodeSlot}").ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogUnavailable(_log, e.Message);
            }
            await redis.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    [LoggerMessage(2040, LogLevel.Warning, "Redis backplane: {Message}")]
    private static partial void LogUnavailable(ILogger logger, string message);

    [LoggerMessage(2041, LogLevel.Information, "Redis backplane available: {Available}.")]
    private static partial void LogAvailability(ILogger logger, bool available);

    [LoggerMessage(2042, LogLevel.Error, "Redis backplane: the router failed to handle a message.")]
    private static partial void LogMessageFailed(ILogger logger, Exception exception);
}

/// <summary>Joins a router to a Redis backplane.</summary>
public static class RedisBackplaneExtensions
{
    /// <summary>
    /// Makes this router one node of a cluster sharing the Redis at <paramref name="configuration"/> (e.g. <c>localhost:6379</c>);
    /// every node with the same Redis and prefix serves the same realms as one router. Returns <paramref name="options"/>.
    /// </summary>
    public static WampRouterOptions UseRedisBackplane(this WampRouterOptions options, string configuration, Action<RedisBackplaneOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = new RedisBackplaneOptions { Configuration = configuration, LoggerFactory = options.LoggerFactory };
        configure?.Invoke(settings);
        options.Backplane = new RedisBackplane(settings);
        return options;
    }
}
