using System.Text.Json;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class RouterCore
{
    /// <summary>A realm with settings but no <see cref="WampRealmOptions.Authentication"/> admits anonymous sessions.</summary>
    private static readonly WampAuthenticator[] AnonymousOnly = [new WampAnonymousAuthenticator()];

    /// <summary>
    /// Authenticates a HELLO for a realm with settings: picks the first of the client's <c>authmethods</c> (in the
    /// client's order) that the realm accepts, runs its CHALLENGE/AUTHENTICATE if it has one, and sets the session's
    /// authid, authrole, authmethod and authprovider. Everything, the authenticator's callbacks included, is bounded by
    /// <see cref="WampRouterOptions.HandshakeTimeout"/> from the HELLO on. A session gets one AUTHENTICATE: a failed one
    /// ends the connection. Returns false when the session was refused (its ABORT queued).
    /// </summary>
    private async Task<bool> AuthenticateAsync(RouterSession session, WampMessage hello, string realm, WampRealmOptions settings, CancellationToken cancellationToken)
    {
        long started = Options.TimeProvider.GetTimestamp();
        var details = hello.Dict;
        if (!TryReadAuthMethods(details, out var offered, out string? malformed) || !TryReadAuthId(details, out string? authId, out malformed))
        {
            Refuse(session, WampUris.ProtocolViolation, malformed!);
            return false;
        }
        if (details.TryFind("authextra"u8, out var extra) && extra.TokenType is not (JsonTokenType.StartObject or JsonTokenType.Null))
        {
            Refuse(session, WampUris.ProtocolViolation, "HELLO.Details.authextra must be a dictionary");
            return false;
        }

        var accepted = settings.Authentication ?? AnonymousOnly;
        var authenticator = offered.Select(m => accepted.FirstOrDefault(a => a.AuthMethod == m)).FirstOrDefault(a => a is not null);
        if (authenticator is null)
        {
            Refuse(session, WampUris.NoMatchingAuthMethod,
                $"realm '{realm}' accepts none of the offered authentication methods ({Offered(offered)}); it accepts {string.Join(", ", accepted.Select(a => a.AuthMethod))}");
            return false;
        }
        string method = authenticator.AuthMethod;
        var request = new AuthRequest
        {
            Realm = realm, SessionId = session.Id, AuthId = authId, AuthExtra = details.GetDict("authextra"u8), TimeProvider = Options.TimeProvider,
        };

        AuthStart start;
        try
        {
            start = await WithinAsync(ct => authenticator.StartAsync(request, ct), started, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return AuthenticatorFailed(session, e, method, authId, realm);
        }
        if (start.Refused is { } refused)
        {
            Log.AuthenticationFailed(session.Id, method, LogText(authId), realm, refused.Message);
            session.Send(RouterFrames.Abort(refused.Reason, refused.Message));
            return false;
        }

        AuthResult result;
        if (start.Welcomed is { } welcomed)
        {
            result = welcomed;
        }
        else
        {
            var challenge = start.Challenged!;
            var w = WampFrameWriter.Start(WampMessageType.Challenge).String(method);
            challenge.WriteExtra(w.Json);
            session.Send(w.ToFrame());
            if (await ReceiveAuthenticateAsync(session, started, cancellationToken).ConfigureAwait(false) is not { } signature) return false;
            AuthResult? verified;
            try
            {
                verified = await WithinAsync(ct => challenge.VerifyAsync(signature, ct), started, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                return AuthenticatorFailed(session, e, method, authId, realm);
            }
            if (verified is not { } ok)
            {
                // One reason and one message for every wrong credential: nothing says whether the authid or the secret was wrong.
                Log.AuthenticationFailed(session.Id, method, LogText(authId), realm, "credentials refused");
                session.Send(RouterFrames.Abort(WampUris.NotAuthorized, "authentication failed"));
                return false;
            }
            result = ok;
        }

        var principal = result.Principal;
        if (string.IsNullOrEmpty(principal.AuthId) || string.IsNullOrEmpty(principal.AuthRole))
            return AuthenticatorFailed(session, new InvalidOperationException("The authenticator returned a principal without authid or authrole."), method, authId, realm);
        session.AuthId = principal.AuthId;
        session.AuthRole = principal.AuthRole;
        session.AuthMethod = method;
        session.AuthProvider = result.Provider;
        session.AuthExtra = principal.AuthExtra;
        Log.Authenticated(session.Id, LogText(principal.AuthId), principal.AuthRole, method, result.Provider, realm);
        return true;
    }

    private bool AuthenticatorFailed(RouterSession session, Exception e, string method, string? authId, string realm)
    {
        Log.AuthenticatorFailed(e, method, realm, LogText(authId), session.Id);
        session.Send(RouterFrames.Abort(WampUris.AuthenticationFailed,
            e is TimeoutException ? "authentication did not finish in time" : "the router could not verify the credentials"));
        return false;
    }

    /// <summary>
    /// Runs an authenticator's step within what is left of the handshake's bound. A step that ignores its token is
    /// left behind at the bound (<see cref="TimeoutException"/>); its late failure is observed, never thrown.
    /// </summary>
    private async Task<T> WithinAsync<T>(Func<CancellationToken, ValueTask<T>> step, long started, CancellationToken cancellationToken)
    {
        var remaining = Options.HandshakeTimeout - Options.TimeProvider.GetElapsedTime(started);
        if (remaining <= TimeSpan.Zero) throw new TimeoutException();
        using var timer = new CancellationTokenSource(remaining, Options.TimeProvider);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);
        var task = step(bound.Token).AsTask();
        try
        {
            return await task.WaitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new TimeoutException();
        }
    }

    /// <summary>
    /// Waits for the AUTHENTICATE that answers a CHALLENGE, within what is left of the handshake's bound; anything
    /// else ends the session (ABORT <c>protocol_violation</c>; an ABORT from the client just ends it). Null when the
    /// session ended.
    /// </summary>
    private async Task<string?> ReceiveAuthenticateAsync(RouterSession session, long started, CancellationToken cancellationToken)
    {
        var remaining = Options.HandshakeTimeout - Options.TimeProvider.GetElapsedTime(started);
        if (await ReceiveHandshakeMessageAsync(session, remaining, "AUTHENTICATE", cancellationToken).ConfigureAwait(false) is not { } m)
            return null;
        switch (m.Type)
        {
            case WampMessageType.Authenticate:
                return m.Uri;
            case WampMessageType.Abort:
                Log.SessionRefused(m.Uri ?? "", "the client gave up authenticating");
                return null;
            default:
                Refuse(session, WampUris.ProtocolViolation, $"{m.Type} received while waiting for AUTHENTICATE");
                return null;
        }
    }

    private static bool TryReadAuthMethods(WampDict details, out List<string> methods, out string? error)
    {
        methods = [];
        error = null;
        if (!details.TryFind("authmethods"u8, out var r) || r.TokenType == JsonTokenType.Null)
        {
            methods.Add("anonymous"); // the protocol's default
            return true;
        }
        if (r.TokenType == JsonTokenType.StartArray)
        {
            while (r.Read() && r.TokenType == JsonTokenType.String) methods.Add(r.GetString()!);
            if (r.TokenType == JsonTokenType.EndArray) return true;
        }
        error = "HELLO.Details.authmethods must be a list of strings";
        return false;
    }

    private static bool TryReadAuthId(WampDict details, out string? authId, out string? error)
    {
        authId = null;
        error = null;
        if (!details.TryFind("authid"u8, out var r) || r.TokenType == JsonTokenType.Null) return true;
        if (r.TokenType == JsonTokenType.String)
        {
            authId = r.GetString();
            return true;
        }
        error = "HELLO.Details.authid must be a string";
        return false;
    }

    /// <summary>The offered methods as echoed in an ABORT and the log: a peer may offer thousands, so a few, cut short.</summary>
    private static string Offered(List<string> offered) =>
        string.Join(", ", offered.Take(8).Select(m => m.Length <= 40 ? m : m[..40] + "…")) + (offered.Count > 8 ? $", … ({offered.Count} in all)" : "");

    /// <summary>An authid as logged: a peer chooses it, so it is cut short.</summary>
    private static string LogText(string? authId) => authId is null ? "(none)" : authId.Length <= 100 ? authId : authId[..100] + "…";
}
