using System.Globalization;
using WampContracts.Protocol;

namespace WampContracts.Router.Core;

internal sealed partial class Realm
{
    /// <summary>Not defined by WAMP's basic profile: Crossbar.io's answer when the authorizer itself failed.</summary>
    public const string AuthorizationFailed = "wamp.error.authorization_failed";

    /// <summary>The realm's compiled rules; null for an open realm (anyone may do anything).</summary>
    public RealmAuthorization? Authorization { get; } = router.AuthorizationOf(name);

    /// <summary>A dynamic authorizer's answer, taken before the message is handled; <see cref="Failure"/> when it threw or timed out.</summary>
    internal readonly record struct AuthorizerAnswer(bool Allow, bool Disclose, string? Failure);

    /// <summary>
    /// For a session whose role has a dynamic authorizer: asks it about the CALL, REGISTER, PUBLISH or SUBSCRIBE in
    /// <paramref name="m"/>, outside the realm's lock (the session's receive loop awaits it, so its messages keep
    /// their order). Null, at once, when there is nothing to ask (another role or message, or a request the realm
    /// refuses anyway).
    /// </summary>
    public ValueTask<AuthorizerAnswer?> AskAuthorizerAsync(RouterSession session, WampMessage m, CancellationToken cancellationToken)
    {
        if (Authorization?.Role(session.AuthRole)?.Authorizer is not { } authorizer) return default;
        if (!TryDescribe(m, out var action, out string uri, out var match)) return default;
        return new ValueTask<AuthorizerAnswer?>(AskAsync(authorizer, session, m, action, uri, match, cancellationToken));
    }

    private async Task<AuthorizerAnswer?> AskAsync(WampAuthorizer authorizer, RouterSession session, WampMessage m,
        WampAction action, string uri, WampMatch match, CancellationToken cancellationToken)
    {
        var timeout = Authorization!.AuthorizerTimeout;
        var request = new WampAuthorizationRequest
        {
            Realm = Name,
            SessionId = session.Id,
            AuthId = session.AuthId,
            AuthRole = session.AuthRole,
            Action = action,
            Uri = uri,
            Match = match,
            Options = m.Dict.ToJsonElement(),
        };
        using var expired = new CancellationTokenSource(timeout, Options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(expired.Token, cancellationToken);
        Task<WampAuthorization>? pending = null;
        try
        {
            pending = authorizer(request, linked.Token).AsTask();
            var answer = await pending.WaitAsync(linked.Token).ConfigureAwait(false);
            return new AuthorizerAnswer(answer.Allow, answer.Disclose, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Observe(pending);
            throw; // the session is ending
        }
        catch (OperationCanceledException) when (expired.IsCancellationRequested)
        {
            Observe(pending);
            router.Log.AuthorizerTimedOut(session.Id, session.AuthRole, Verb(action), uri, timeout.TotalMilliseconds);
            return new AuthorizerAnswer(false, false, string.Create(CultureInfo.InvariantCulture,
                $"the authorizer of authrole '{session.AuthRole}' did not answer within {timeout.TotalMilliseconds:0} ms"));
        }
        catch (Exception e)
        {
            router.Log.AuthorizerFailed(e, session.Id, session.AuthRole, Verb(action), uri);
            return new AuthorizerAnswer(false, false, $"the authorizer of authrole '{session.AuthRole}' failed");
        }

        // An authorizer abandoned at its bound may still fail later: nobody waits for it any more.
        static void Observe(Task? task) =>
            task?.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
    }

    /// <summary>The action a request asks for, when the realm would otherwise go on to carry it out.</summary>
    private static bool TryDescribe(in WampMessage m, out WampAction action, out string uri, out WampMatch match)
    {
        (action, uri, match) = (default, "", WampMatch.Exact);
        switch (m.Type)
        {
            case WampMessageType.Call: action = WampAction.Call; break;
            case WampMessageType.Publish: action = WampAction.Publish; break;
            case WampMessageType.Register: action = WampAction.Register; break;
            case WampMessageType.Subscribe: action = WampAction.Subscribe; break;
            default: return false;
        }
        if (m.Id1 == 0 || m.Uri is null) return false;
        if (action is WampAction.Register or WampAction.Subscribe)
        {
            if (!IsKnownMatch(m.Dict)) return false;
            match = ParseMatch(m.Dict);
        }
        uri = m.Uri;
        if (!WampUris.IsValidLoose(uri, allowEmptyComponents: match == WampMatch.Wildcard, allowEmptyLast: match != WampMatch.Exact)) return false;
        // Nobody may register or publish in the reserved namespace: refused before any authorizer is asked.
        return !(action is WampAction.Register or WampAction.Publish && WampUris.IsReserved(uri));
    }

    /// <summary>
    /// Whether the session may do <paramref name="action"/> on <paramref name="uri"/>: always in an open realm; in a
    /// configured one, by its role's rules or its authorizer's <paramref name="answer"/>. When not, answers ERROR
    /// (<c>wamp.error.not_authorized</c>, or <c>wamp.error.authorization_failed</c> when the authorizer failed) unless
    /// <paramref name="reply"/> is false. <paramref name="disclose"/>: a configured realm's decision to disclose the
    /// caller or publisher.
    /// </summary>
    private bool Authorize(RouterSession session, WampAction action, WampMessageType requestType, long requestId, string uri, WampMatch match,
        AuthorizerAnswer? answer, out bool disclose, bool reply = true)
    {
        disclose = false;
        if (Authorization is null) return true;
        Verdict verdict;
        if (answer is { } a)
        {
            if (a.Failure is { } failure)
            {
                if (reply) session.Send(RouterFrames.Error(requestType, requestId, AuthorizationFailed, $"could not authorize {Verb(action)} '{RouterFrames.Quote(uri)}'{Pattern(match)}: {failure}"));
                return false;
            }
            verdict = new Verdict(a.Allow, a.Disclose);
        }
        else
        {
            // A role with an authorizer that was not asked (this cannot happen for a request that gets here) decides nothing: denied.
            var role = Authorization.Role(session.AuthRole);
            verdict = role is null || role.Authorizer is not null ? default : role.Decide(action, uri, match);
        }
        disclose = verdict.Allow && verdict.Disclose;
        if (verdict.Allow) return true;
        router.Log.ActionDenied(session.Id, session.AuthRole, Verb(action), uri);
        if (reply)
            session.Send(RouterFrames.Error(requestType, requestId, WampUris.NotAuthorized,
                $"authrole '{session.AuthRole}' is not authorized to {Verb(action)} '{RouterFrames.Quote(uri)}'{Pattern(match)} in realm '{Name}'"));
        return false;
    }

    private static string Verb(WampAction action) => action switch
    {
        WampAction.Call => "call",
        WampAction.Register => "register",
        WampAction.Publish => "publish to",
        _ => "subscribe to",
    };

    private static string Pattern(WampMatch match) => match == WampMatch.Exact ? "" : $" (match {match.ToString().ToLowerInvariant()})";
}
