namespace ContentService.Auth;

/// <summary>The stable error IDs of sign-in.</summary>
internal static class SignInErrorIds
{
    /// <summary>Sign-in is not configured (no OAuth client id and secret).</summary>
    public const string NotConfigured = "ERR_SIGNIN_NOT_CONFIGURED";

    /// <summary>The callback carries no <c>state</c>.</summary>
    public const string StateMissing = "ERR_OAUTH_STATE_MISSING";

    /// <summary>The callback's <c>state</c> is not the one this browser was given, or not one this service issued.</summary>
    public const string StateMismatch = "ERR_OAUTH_STATE_MISMATCH";

    /// <summary>The callback's <c>state</c> was already used.</summary>
    public const string StateReplayed = "ERR_OAUTH_STATE_REPLAYED";

    /// <summary>The callback came after the <c>state</c> expired.</summary>
    public const string StateExpired = "ERR_OAUTH_STATE_EXPIRED";

    /// <summary>The user declined at the provider.</summary>
    public const string Denied = "ERR_OAUTH_DENIED";

    /// <summary>The provider refused the code (wrong, used or expired).</summary>
    public const string CodeRejected = "ERR_OAUTH_CODE_REJECTED";

    /// <summary>A refresh was refused: the refresh token is unknown, already used or expired, or its key was revoked.</summary>
    public const string RefreshRejected = "ERR_OAUTH_REFRESH_REJECTED";

    /// <summary>The provider's token is expired (or was issued already expired).</summary>
    public const string TokenExpired = "ERR_OAUTH_TOKEN_EXPIRED";
}
