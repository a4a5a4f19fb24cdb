using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using WampContracts.Serialization;

namespace WampContracts.Transport;

/// <summary>
/// The HTTP/1.1 upgrade of RFC 6455 §4: the client's request and its check of the answer here, the accept key both
/// sides compute. The router answers upgrades through ASP.NET Core (<c>WampRouter.HandleAsync</c>).
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>The longest response head a client reads before it gives up on the server.</summary>
    private const int MaxResponseHead = 16 * 1024;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for a <c>Sec-WebSocket-Key</c>.</summary>
    public static string AcceptKey(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));

    /// <summary>
    /// Opens a WebSocket to <paramref name="url"/> (<c>ws://</c> or <c>wss://</c>) offering the subprotocols of
    /// <paramref name="serializers"/> in order, with the keepalive and TLS settings of <paramref name="options"/>. A
    /// plain connection is read by its own thread when <paramref name="ownReaderThread"/> (see <see cref="SocketChannel"/>).
    /// </summary>
    /// <exception cref="WampConnectionException">The connection failed, timed out, was refused (the HTTP status is
    /// named), its certificate was refused (named, with why), or the server chose no WAMP subprotocol.</exception>
    /// <exception cref="ArgumentException">TLS settings for a <c>ws://</c> URL, or a malformed pin.</exception>
    public static async Task<WebSocketConnection> ConnectAsync(Uri url, TimeSpan connectTimeout, int maxMessageSize, WampWebSocketOptions? options,
        IReadOnlyList<WampSerializer>? serializers, bool ownReaderThread, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (serializers is not { Count: > 0 }) serializers = [WampSerializer.Json];
        options ??= WampWebSocketOptions.Default;
        bool secure = url.Scheme is "wss" or "https";
        if (!secure && options.HasTlsSettings)
            throw new ArgumentException($"TLS settings (pins, certificate validation, client certificate) were given for {url}, which is not encrypted: use wss://.", nameof(url));
        var check = secure ? new ServerCertificateCheck(url.IdnHost, options) : null;
        int port = url.IsDefaultPort || url.Port < 0 ? (secure ? 443 : 80) : url.Port;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(connectTimeout);
        ByteChannel? channel = null;
        try
        {
            channel = await OpenChannelAsync(url, port, secure, check, options, ownReaderThread, connectTimeout, timeout.Token).ConfigureAwait(false);
            string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            await channel.WriteAsync(Request(url, port, secure, key, serializers)).ConfigureAwait(false);
            var (head, rest) = await ReadHeadAsync(channel, url, timeout.Token).ConfigureAwait(false);
            var serializer = CheckResponse(url, head, rest, key, serializers);
            var connection = new WebSocketConnection(channel, client: true, serializer, maxMessageSize,
                options.KeepAliveInterval, options.KeepAliveTimeout, rest);
            channel = null;
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WampConnectionException(WampConnectionException.TransportLost,
                $"Could not connect to {url} within {connectTimeout.TotalMilliseconds:0} ms.");
        }
        catch (Exception e) when (e is SocketException or IOException or System.Security.Authentication.AuthenticationException)
        {
            if (check?.Failure is { } refused)
                throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to {url}: {refused}.", e);
            throw new WampConnectionException(WampConnectionException.TransportLost, $"Could not connect to {url}: {Describe(e)}", e);
        }
        finally
        {
            channel?.Abort();
        }
    }

    private static async Task<ByteChannel> OpenChannelAsync(Uri url, int port, bool secure, ServerCertificateCheck? check, WampWebSocketOptions options,
        bool ownReaderThread, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        if (!secure && ownReaderThread && await SocketChannel.TryConnectOwnAsync(url.IdnHost, port, connectTimeout, cancellationToken).ConfigureAwait(false) is { } own)
            return own;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(url.IdnHost, port, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var network = new NetworkStream(socket, ownsSocket: true);
        if (!secure) return new StreamChannel(network);
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = url.IdnHost,
                // Always our own callback, even with the defaults: it keeps the reason a certificate was refused.
                RemoteCertificateValidationCallback = check!.Validate,
                ClientCertificates = options.ClientCertificate is { } certificate ? [certificate] : null,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new StreamChannel(tls);
    }

    private static byte[] Request(Uri url, int port, bool secure, string key, IReadOnlyList<WampSerializer> serializers)
    {
        string host = url.HostNameType == UriHostNameType.IPv6 ? url.Host : url.IdnHost;
        if (port != (secure ? 443 : 80)) host += ":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var request = new StringBuilder(256)
            .Append("GET ").Append(url.PathAndQuery.Length == 0 ? "/" : url.PathAndQuery).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host).Append("\r\n")
            .Append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
            .Append("Sec-WebSocket-Key: ").Append(key).Append("\r\n")
            .Append("Sec-WebSocket-Version: 13\r\n")
            .Append("Sec-WebSocket-Protocol: ").AppendJoin(", ", serializers.Select(s => s.Subprotocol)).Append("\r\n")
            .Append("\r\n");
        return Encoding.ASCII.GetBytes(request.ToString());
    }

    /// <summary>Reads the response head (up to the blank line) and the bytes after it, which are the first frames.</summary>
    private static async Task<(string Head, byte[] After)> ReadHeadAsync(ByteChannel channel, Uri url, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length >= MaxResponseHead)
                    throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} answered the WebSocket upgrade with more than {MaxResponseHead} bytes of headers.");
                Array.Resize(ref buffer, buffer.Length * 2);
            }
            int n = await channel.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0)
                throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} closed the connection during the WebSocket upgrade.");
            int searchFrom = Math.Max(0, length - 3);
            length += n;
            int end = buffer.AsSpan(searchFrom, length - searchFrom).IndexOf(HeadEnd);
            if (end >= 0)
            {
                end += searchFrom + HeadEnd.Length;
                return (Encoding.Latin1.GetString(buffer, 0, end), buffer[end..length]);
            }
        }
    }

    private static WampSerializer CheckResponse(Uri url, string head, byte[] rest, string key, IReadOnlyList<WampSerializer> serializers)
    {
        var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        var status = lines.Length > 0 ? lines[0].Split(' ', 3) : [];
        if (status.Length < 2 || !status[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(status[1], out int code))
            throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} did not answer the WebSocket upgrade with HTTP.");
        if (code != 101)
        {
            // The router explains a refusal in a line of text; show its start.
            string body = Encoding.UTF8.GetString(rest, 0, Math.Min(rest.Length, 200)).Split('\n')[0].Trim();
            throw new WampConnectionException(WampConnectionException.TransportLost,
                $"{url} refused the WebSocket upgrade: HTTP {code} {(status.Length > 2 ? status[2] : "")}{(body.Length > 0 ? $" ({body})" : "")}.");
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            headers[name] = headers.TryGetValue(name, out var earlier) ? $"{earlier}, {value}" : value;
        }
        if (!headers.TryGetValue("Upgrade", out var upgrade) || !upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase) ||
            !headers.TryGetValue("Connection", out var connection) || !connection.Contains("upgrade", StringComparison.OrdinalIgnoreCase))
            throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} answered 101 without upgrading to a WebSocket.");
        if (!headers.TryGetValue("Sec-WebSocket-Accept", out var accept) || accept != AcceptKey(key))
            throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} answered the WebSocket upgrade with a wrong Sec-WebSocket-Accept.");
        if (headers.TryGetValue("Sec-WebSocket-Extensions", out var extensions) && extensions.Length > 0)
            throw new WampConnectionException(WampConnectionException.TransportLost, $"{url} chose WebSocket extensions that were not offered ({extensions}).");
        headers.TryGetValue("Sec-WebSocket-Protocol", out var chosen);
        return serializers.FirstOrDefault(s => s.Subprotocol == chosen)
            ?? throw new WampConnectionException(WampConnectionException.TransportLost,
                $"{url} accepted none of the WebSocket subprotocols {string.Join(", ", serializers.Select(s => $"'{s.Subprotocol}'"))} (it chose '{(string.IsNullOrEmpty(chosen) ? "none" : chosen)}').");
    }

    /// <summary>The messages of an exception and its inner ones: the cause (refused connection, TLS alert, ...) is often further in.</summary>
    internal static string Describe(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null && messages.Count < 5; x = x.InnerException)
        {
            string m = x.Message.Trim();
            if (m.Length > 0 && !messages.Contains(m)) messages.Add(m);
        }
        return string.Join(" ", messages.Select(m => m.EndsWith('.') ? m : m + "."));
    }
}
