using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Primitives;
using WampContracts.Router.Core;
using WampContracts.Transport;

namespace WampContracts.Router;

/// <summary>
/// The router's own WebSocket listener (<see cref="WampRouter.StartAsync"/>): reads each connection's HTTP/1.1 upgrade
/// request, answers it (101, or a refusal with a line of text: see <see cref="WebSocketUpgrade"/>), and serves the
/// session over <see cref="WebSocketConnection"/>; with a certificate, behind TLS. A connection without TLS is read
/// by a thread of its own while the process has one to give (<see cref="SocketChannel"/>), else by the thread pool.
/// </summary>
/// <remarks>
/// Why not Kestrel: its HTTP connection stays alive under every upgraded WebSocket (about 7 KB of state per session)
/// and moves each message through two pipes; here a session holds its socket, its buffers only while bytes are in
/// flight, and nothing else. The request is read within bounds a hostile client cannot stretch: at most
/// <see cref="MaxRequestHead"/> bytes and <see cref="MaxHeaders"/> header lines, all within
/// <see cref="WampRouterOptions.HandshakeTimeout"/>; anything that is not a well-formed GET upgrade gets its answer
/// and the connection is closed. An application that needs more of HTTP maps the router into its own ASP.NET Core
/// app (<c>MapWampRouter</c>).
/// </remarks>
internal sealed class WebSocketListener(RouterCore core, Socket listener, RouterCertificate? certificate, OriginPolicy origins)
    : ConnectionListener(core, listener)
{
    /// <summary>The longest request head (request line and headers) read.</summary>
    public const int MaxRequestHead = 16 * 1024;

    /// <summary>The most header lines a request may have.</summary>
    public const int MaxHeaders = 100;

    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    private readonly SslStreamCertificateContext? _tls = certificate is null
        ? null
        : SslStreamCertificateContext.Create(certificate.Certificate, certificate.Chain, offline: true);

    /// <exception cref="IOException">The port cannot be listened on.</exception>
    public static WebSocketListener Start(RouterCore core, IPAddress address, int port, RouterCertificate? certificate, OriginPolicy origins) =>
        new(core, Listen(address, port, "WebSocket"), certificate, origins);

    protected override Task ServeAsync(Socket socket)
    {
        if (_tls is null && SocketChannel.TryReserve())
        {
            // Everything of this connection, from the request on, happens on its own thread, whose reads wait in the kernel.
            var channel = new SocketChannel(socket);
            try
            {
                return ReaderThread.Start(channel, () => ServeChannelAsync(channel));
            }
            catch
            {
                channel.Abort();
                throw;
            }
        }
        return ServeOnThreadPoolAsync(socket);
    }

    private async Task ServeOnThreadPoolAsync(Socket socket)
    {
        var network = new NetworkStream(socket, ownsSocket: true);
        if (_tls is null)
        {
            await ServeChannelAsync(new StreamChannel(network)).ConfigureAwait(false);
            return;
        }
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        try
        {
            using var timeout = HandshakeBound();
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = _tls,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Security.Authentication.AuthenticationException or SocketException)
        {
            Core.Log.ConnectionRefused($"TLS handshake failed: {e.Message}");
            HandshakeDone();
            await tls.DisposeAsync().ConfigureAwait(false);
            return;
        }
        await ServeChannelAsync(new StreamChannel(tls)).ConfigureAwait(false);
    }

    /// <summary>Reads the upgrade request, answers it, and serves the session; never throws.</summary>
    private async Task ServeChannelAsync(ByteChannel channel)
    {
        WebSocketConnection? transport = null;
        bool handshaking = true;
        try
        {
            using (var timeout = HandshakeBound())
            {
                var (request, after) = await ReadRequestAsync(channel, timeout.Token).ConfigureAwait(false);
                if (request.Refusal is { } refused)
                {
                    await RefuseAsync(channel, refused, timeout.Token).ConfigureAwait(false);
                    return;
                }
                string key = request.Header("Sec-WebSocket-Key").ToString();
                var check = WebSocketUpgrade.Check(Core, origins, request.Header("Sec-WebSocket-Version"), key,
                    request.Header("Origin"), request.Header("Sec-WebSocket-Protocol"), out var serializer);
                if (check is { } refusal)
                {
                    await RefuseAsync(channel, refusal, timeout.Token).ConfigureAwait(false);
                    return;
                }
                string accept = WebSocketHandshake.AcceptKey(key);
                await channel.WriteAsync(Encoding.ASCII.GetBytes(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                    $"Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {serializer.Subprotocol}\r\n\r\n")).ConfigureAwait(false);
                transport = new WebSocketConnection(channel, client: false, serializer, Core.Options.MaxMessageSize,
                    Core.Options.KeepAliveInterval, Core.Options.KeepAliveTimeout, after);
            }
            handshaking = false;
            HandshakeDone();
            await Core.ServeAsync(transport, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // No request in time, or the peer went away: only this connection ends.
        }
        catch (Exception e)
        {
            // Nothing a peer sends should reach this; if something does, the connection ends visibly.
            Core.Log.ConnectionRefused($"the upgrade request could not be handled ({e.GetType().Name}: {e.Message})");
        }
        finally
        {
            if (handshaking) HandshakeDone();
            if (transport is null) channel.Abort();
        }
    }

    /// <summary>Answers with a refusal (and its text), ends the stream, and waits a moment for the peer to close.</summary>
    private static async Task RefuseAsync(ByteChannel channel, UpgradeRefusal refusal, CancellationToken cancellationToken)
    {
        byte[] body = Encoding.UTF8.GetBytes(refusal.Text + "\n");
        string head = $"HTTP/1.1 {refusal.Status} {Reason(refusal.Status)}\r\nContent-Type: text/plain; charset=utf-8\r\n" +
            $"Content-Length: {body.Length}\r\n{(refusal.NamesVersion ? "Sec-WebSocket-Version: 13\r\n" : "")}Connection: close\r\n\r\n";
        byte[] answer = [.. Encoding.ASCII.GetBytes(head), .. body];
        await channel.WriteAsync(answer).ConfigureAwait(false);
        channel.ShutdownSend();
        // Closing at once could reset the connection before the peer read the answer; its own close is the sign.
        var drain = new byte[512];
        while (await channel.ReadAsync(drain, cancellationToken).ConfigureAwait(false) > 0) { }
    }

    private static string Reason(int status) => status switch
    {
        400 => "Bad Request",
        403 => "Forbidden",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };

    /// <summary>Reads a request head (bounded) and the bytes after it, which are the client's first frames.</summary>
    private static async Task<(UpgradeRequest Request, byte[] After)> ReadRequestAsync(ByteChannel channel, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (length >= MaxRequestHead)
                    return (UpgradeRequest.Refused(new UpgradeRefusal(431, $"The request head is longer than {MaxRequestHead} bytes.")), []);
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxRequestHead));
            }
            int n = await channel.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new IOException("the client closed the connection before its request ended");
            int from = Math.Max(0, length - 3);
            length += n;
            int end = buffer.AsSpan(from, length - from).IndexOf(HeadEnd);
            if (end < 0) continue;
            end += from + HeadEnd.Length;
            return (UpgradeRequest.Parse(Encoding.Latin1.GetString(buffer, 0, end)), buffer[end..length]);
        }
    }

    /// <summary>An HTTP/1.1 request head, read strictly: a refusal for anything that is not a well-formed upgrade.</summary>
    private sealed class UpgradeRequest
    {
        private readonly Dictionary<string, StringValues> _headers = new(StringComparer.OrdinalIgnoreCase);

        public UpgradeRefusal? Refusal { get; private init; }

        public StringValues Header(string name) => _headers.GetValueOrDefault(name);

        public static UpgradeRequest Refused(UpgradeRefusal refusal) => new() { Refusal = refusal };

        private static UpgradeRequest Bad(string why) => Refused(new UpgradeRefusal(400, $"Malformed HTTP request: {why}."));

        public static UpgradeRequest Parse(string head)
        {
            var lines = head[..^4].Split("\r\n");
            var start = lines[0].Split(' ');
            if (start.Length != 3 || start[0].Length == 0 || start[1].Length == 0 || !start[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                return Bad("the request line is not 'METHOD target HTTP/1.x'");
            if (lines.Length - 1 > MaxHeaders)
                return Refused(new UpgradeRefusal(431, $"The request has more than {MaxHeaders} header lines."));
            var request = new UpgradeRequest();
            foreach (var line in lines.AsSpan(1))
            {
                int colon = line.IndexOf(':');
                // No folded lines (obsolete, RFC 9112 §5.2) and no header without a name.
                if (colon <= 0 || line[0] is ' ' or '\t' || line.AsSpan(0, colon).ContainsAny(" \t"))
                    return Bad("a header line is not 'Name: value'");
                string name = line[..colon];
                request._headers[name] = StringValues.Concat(request.Header(name), line[(colon + 1)..].Trim(' ', '\t'));
            }
            bool http11 = start[2] == "HTTP/1.1";
            if (http11 && request.Header("Host").Count != 1) return Bad("an HTTP/1.1 request needs exactly one Host header");
            bool upgrade = start[0] == "GET" && http11 &&
                HasToken(request.Header("Upgrade"), "websocket") && HasToken(request.Header("Connection"), "upgrade");
            return upgrade ? request : Refused(WebSocketUpgrade.NotAnUpgrade);
        }

        private static bool HasToken(StringValues values, string token)
        {
            foreach (var value in values)
                foreach (var part in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
                    if (part.Equals(token, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }
    }
}
