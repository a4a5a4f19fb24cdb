using System.Runtime.CompilerServices;
using System.Text.Json;

namespace WampContracts;

/// <summary>
/// A WAMP error: an ERROR message's URI with its arguments. Throw it from a procedure handler to answer the
/// caller with that URI and payload; catch it around a call to read what the callee (or router) answered.
/// </summary>
public class WampException : Exception
{
    /// <summary>An error with a URI and a human-readable message, sent as the single positional argument.</summary>
    public WampException(string uri, string? message = null)
        : this(uri, message is null ? WampPayload.Empty : WampPayload.FromMessage(message))
    {
    }

    /// <summary>An error with a URI and a payload of positional and keyword arguments.</summary>
    public WampException(string uri, WampPayload payload, string? message = null, Exception? innerException = null)
        : base(message ?? Describe(uri, payload), innerException)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        Uri = uri;
        _payload = payload;
    }

    private readonly WampPayload _payload;
    private StrongBox<WampPayload>? _written;

    /// <summary>The payload the constructor was given.</summary>
    internal WampPayload GivenPayload => _payload;

    /// <summary>The error URI, e.g. <c>com.example.error.not_found</c>.</summary>
    public string Uri { get; }

    /// <summary>
    /// The error's positional and keyword arguments, as received or to be sent. For a <c>[WampError]</c> exception with
    /// public properties, the positional arguments it was given (its message) and each property as a keyword argument.
    /// </summary>
    public WampPayload Payload
    {
        get
        {
            // Written once it is first read (the derived constructor has set the properties by then); a race writes the
            // same value twice, and the box makes the two-field struct's publication atomic.
            var written = Volatile.Read(ref _written);
            if (written is null)
            {
                written = new StrongBox<WampPayload>(WampContractRegistry.Write(this) ?? _payload);
                Volatile.Write(ref _written, written);
            }
            return written.Value;
        }
    }

    /// <summary>The positional arguments as a JSON array.</summary>
    public JsonElement Args => Payload.Arguments;

    /// <summary>The keyword arguments as a JSON object.</summary>
    public JsonElement Kwargs => Payload.KeywordArguments;

    /// <summary>The ERROR's Details dictionary, when the error came from the wire.</summary>
    public Protocol.WampDict Details { get; init; }


    private static string Describe(string uri, WampPayload payload)
    {
        if (!payload.HasArguments && !payload.HasKeywordArguments) return uri;
        var first = payload.GetArgumentJson(0);
        if (!first.IsEmpty && first.Span[0] == (byte)'"')
        {
            string? text = JsonSerializer.Deserialize(first.Span, WampRuntimeJsonContext.Default.String);
            return $"{uri}: {text}";
        }
        return $"{uri}: {payload}";
    }
}

/// <summary>
/// The session could not be opened, or was lost: the router refused it (ABORT), the transport failed or
/// closed, or the session was closed while the operation waited. <see cref="Reason"/> names the cause as a URI.
/// </summary>
public class WampConnectionException : Exception
{
    public WampConnectionException(string reason, string message, Exception? innerException = null)
        : base(message, innerException) => Reason = reason;

    /// <summary>The cause as a URI: the ABORT or GOODBYE reason, or <c>wamp.close.transport_lost</c>.</summary>
    public string Reason { get; }

    /// <summary>The reason a session ends when its transport fails or closes without a GOODBYE.</summary>
    public const string TransportLost = "wamp.close.transport_lost";

    /// <summary>
    /// The connection ended (for <see cref="Reason"/>) but the session reconnects: a request that is safe to repeat can
    /// be sent again once it is back (generated callers retry such calls).
    /// </summary>
    public bool Reconnecting { get; init; }
}

/// <summary>
/// The session could not be authenticated: the router accepts none of the offered methods, refused the credentials
/// (ABORT after AUTHENTICATE), or sent a CHALLENGE this session cannot answer (a method it did not offer, or a
/// malformed one). <see cref="WampConnectionException.Reason"/> is the ABORT reason, e.g. <c>wamp.error.not_authorized</c>.
/// </summary>
public sealed class WampAuthenticationException : WampConnectionException
{
    public WampAuthenticationException(string reason, string? authMethod, string message, Exception? innerException = null)
        : base(reason, message, innerException) => AuthMethod = authMethod;

    /// <summary>The method that was being run when authentication failed; null when none was chosen.</summary>
    public string? AuthMethod { get; }

    /// <summary>The ABORT reason a client sends when it cannot answer a CHALLENGE (Autobahn's).</summary>
    public const string CannotAuthenticate = "wamp.error.cannot_authenticate";
}
