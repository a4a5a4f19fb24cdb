namespace WampContracts.Protocol;

/// <summary>URIs that WAMP itself defines, plus the ones real peers send in their place.</summary>
internal static class WampUris
{
    public const string InvalidUri = "wamp.error.invalid_uri";
    public const string NoSuchProcedure = "wamp.error.no_such_procedure";
    public const string ProcedureAlreadyExists = "wamp.error.procedure_already_exists";
    public const string ProcedureExistsWithDifferentInvocationPolicy = "wamp.error.procedure_exists_with_different_invocation_policy";
    public const string NoSuchRegistration = "wamp.error.no_such_registration";
    public const string NoSuchSubscription = "wamp.error.no_such_subscription";
    public const string NoSuchSession = "wamp.error.no_such_session";
    public const string InvalidArgument = "wamp.error.invalid_argument";
    public const string Canceled = "wamp.error.canceled";
    public const string Timeout = "wamp.error.timeout";
    public const string PayloadSizeExceeded = "wamp.error.payload_size_exceeded";
    public const string ProtocolViolation = "wamp.error.protocol_violation";
    public const string NotAuthorized = "wamp.error.not_authorized";
    public const string NoSuchRealm = "wamp.error.no_such_realm";
    public const string NoAvailableCallee = "wamp.error.no_available_callee";
    public const string RuntimeError = "wamp.error.runtime_error";
    public const string OptionNotAllowed = "wamp.error.option_not_allowed";
    /// <summary>
    /// Not defined by WAMP, which has no URI for it: this router's answer to a REGISTER or SUBSCRIBE past one of its
    /// per-session limits (the error's message names the limit).
    /// </summary>
    public const string LimitExceeded = "wamp.error.limit_exceeded";
    /// <summary>None of the HELLO's <c>authmethods</c> is one the realm accepts.</summary>
    public const string NoMatchingAuthMethod = "wamp.error.no_matching_auth_method";
    /// <summary>Crossbar.io's and fox-wamp's spelling of <see cref="NoMatchingAuthMethod"/>.</summary>
    public const string NoAuthMethod = "wamp.error.no_auth_method";
    public const string AuthenticationFailed = "wamp.error.authentication_failed";
    public const string AuthenticationDenied = "wamp.error.authentication_denied";
    public const string AuthenticationRequired = "wamp.error.authentication_required";
    public const string NoSuchPrincipal = "wamp.error.no_such_principal";
    public const string NoSuchRole = "wamp.error.no_such_role";
    /// <summary>fox-wamp's replacement for a callee's own error URI (the original URI is its only argument).</summary>
    public const string CalleeFailure = "wamp.error.callee_failure";

    /// <summary>True for the ABORT reasons that say authentication failed (a router's, or a client's own <c>cannot_authenticate</c>).</summary>
    public static bool IsAuthenticationFailure(string? reason) => reason is NotAuthorized or NoMatchingAuthMethod or NoAuthMethod
        or AuthenticationFailed or AuthenticationDenied or AuthenticationRequired or NoSuchPrincipal or NoSuchRole or "wamp.error.cannot_authenticate";

    public const string CloseNormal = "wamp.close.normal";
    public const string CloseRealm = "wamp.close.close_realm";
    public const string GoodbyeAndOut = "wamp.close.goodbye_and_out";
    public const string SystemShutdown = "wamp.close.system_shutdown";
    public const string Killed = "wamp.close.killed";

    public const string SessionOnJoin = "wamp.session.on_join";
    public const string SessionOnLeave = "wamp.session.on_leave";
    public const string SessionCount = "wamp.session.count";
    public const string SessionList = "wamp.session.list";
    public const string SessionGet = "wamp.session.get";

    /// <summary>
    /// WAMP's strict URI rule: dot-separated components of lowercase letters, digits and '_'.
    /// With <paramref name="allowEmptyComponents"/> an empty component stands for a wildcard.
    /// </summary>
    public static bool IsValidStrict(ReadOnlySpan<char> uri, bool allowEmptyComponents = false)
    {
        if (uri.IsEmpty) return false;
        bool componentEmpty = true;
        foreach (char c in uri)
        {
            if (c == '.')
            {
                if (componentEmpty && !allowEmptyComponents) return false;
                componentEmpty = true;
            }
            else if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
            {
                componentEmpty = false;
            }
            else
            {
                return false;
            }
        }
        return !componentEmpty || allowEmptyComponents;
    }

    /// <summary>
    /// WAMP's loose URI rule (a MUST for every peer): no empty component and no '.', '#', white space or control
    /// character (NUL included) inside one.
    /// With <paramref name="allowEmptyComponents"/> an empty component stands for a wildcard; with
    /// <paramref name="allowEmptyLast"/> only the last may be empty (prefix patterns).
    /// </summary>
    public static bool IsValidLoose(ReadOnlySpan<char> uri, bool allowEmptyComponents = false, bool allowEmptyLast = false)
    {
        if (uri.IsEmpty) return allowEmptyComponents;
        bool componentEmpty = true;
        foreach (char c in uri)
        {
            if (c == '.')
            {
                if (componentEmpty && !allowEmptyComponents) return false;
                componentEmpty = true;
            }
            else if (c == '#' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
            else
            {
                componentEmpty = false;
            }
        }
        return !componentEmpty || allowEmptyComponents || allowEmptyLast;
    }

    /// <summary>True when the URI's first component is <c>wamp</c>, which the protocol reserves for itself.</summary>
    public static bool IsReserved(ReadOnlySpan<char> uri) =>
        uri.StartsWith("wamp.", StringComparison.Ordinal) || uri.SequenceEqual("wamp");
}
