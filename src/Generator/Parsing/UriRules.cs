using System.Text;

namespace WampContracts.Generator.Parsing;

/// <summary>How contract names become WAMP URIs, and WAMP's strict URI rule.</summary>
internal static class UriRules
{
    /// <summary><c>GetConferenceAsync</c> → <c>get_conference</c>; <c>GetHTTPStatus</c> → <c>get_http_status</c>.</summary>
    public static string ToSnakeCase(string name)
    {
        if (name.EndsWith("Async", System.StringComparison.Ordinal) && name.Length > 5) name = name.Substring(0, name.Length - 5);
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool previousLower = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool nextLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (i > 0 && name[i - 1] != '_' && (previousLower || (nextLower && char.IsUpper(name[i - 1])))) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>The URI of a member: an override with a dot is a full URI; otherwise it is appended to the prefix.</summary>
    public static string Combine(string prefix, string methodName, string? overrideName)
    {
        if (overrideName is { Length: > 0 } && overrideName.IndexOf('.') >= 0) return overrideName;
        return prefix + "." + (overrideName ?? ToSnakeCase(methodName));
    }

    /// <summary>Null when <paramref name="uri"/> follows WAMP's strict rule; otherwise what is wrong.</summary>
    public static string? Problem(string uri)
    {
        if (uri.Length == 0) return "it is empty";
        bool empty = true;
        foreach (char c in uri)
        {
            if (c == '.')
            {
                if (empty) return "it has an empty component";
                empty = true;
            }
            else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            {
                empty = false;
            }
            else
            {
                return $"'{c}' is not allowed (use lowercase letters, digits and '_' between dots)";
            }
        }
        return empty ? "it has an empty component" : null;
    }

    public static bool IsReserved(string uri) => uri == "wamp" || uri.StartsWith("wamp.", System.StringComparison.Ordinal);
}
