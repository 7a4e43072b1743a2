package identity

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// aadError is one of Microsoft's AADSTS errors.
type aadError struct {
	Status   int    // HTTP status on the token endpoint
	Error    string // OAuth error code
	Code     int    // AADSTS number
	Message  string // text after "AADSTSnnnn: "
	SubError string
}

func (e aadError) description(now time.Time, trace, corr string) string {
	return fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
		e.Code, e.Message, trace, corr, now.UTC().Format("2006-01-02 15:04:05Z"))
}

// redirectDescription is the error_description put on a redirect, where
// Microsoft separates the trailer lines with CRLF.
func (e aadError) redirectDescription(now time.Time) string {
	return fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.Code, e.Message, newGUID(), newGUID(), now.UTC().Format("2006-01-02 15:04:05Z"))
}

// The AADSTS errors the sandbox produces. Texts follow Microsoft's.
func errMissingParam(name string) aadError {
	return aadError{400, "invalid_request", 900144,
		fmt.Sprintf("The request body must contain the following parameter: '%s'.", name), ""}
}

func errUnknownClient(clientID, tenant string) aadError {
	return aadError{400, "unauthorized_client", 700016, fmt.Sprintf(
		"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
		clientID, tenant), ""}
}

var (
	errSecretMissing = aadError{401, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.", ""}
	errSecretInvalid = aadError{401, "invalid_client", 7000215,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.", ""}
	errCodeExpired = aadError{400, "invalid_grant", 70008,
		"The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", ""}
	errCodeRedeemed = aadError{400, "invalid_grant", 54005,
		"OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.", ""}
	errMalformedGrant = aadError{400, "invalid_grant", 9002313,
		"Invalid request. Request is malformed or invalid.", ""}
	errVerifier = aadError{400, "invalid_grant", 501481,
		"The Code_Verifier does not match the code_challenge supplied in the authorization request.", ""}
	errRedirectMismatch = aadError{400, "invalid_grant", 500112,
		"The reply address does not match the reply address provided when requesting Authorization code.", ""}
	errRevoked = aadError{400, "invalid_grant", 50173,
		"The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.", ""}
	errRefreshIdle = aadError{400, "invalid_grant", 700082,
		"The refresh token has expired due to inactivity. The token was issued on a date and was inactive for 90.00:00:00.", ""}
	errMFARequired = aadError{400, "invalid_grant", 50076,
		"Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.", "basic_action"}
	errMFAEnrollment = aadError{400, "invalid_grant", 50079,
		"Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.", "basic_action"}
	errBlockedByPolicy = aadError{400, "invalid_grant", 53003,
		"Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.", ""}
	errUnsupportedGrant = aadError{400, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type.", ""}
	errScopeUnauthorized = aadError{400, "invalid_grant", 70000,
		"The request was denied because one or more scopes requested are unauthorized or expired. The user must first sign in and grant the client application access to the requested scope.", ""}
	errDeclined = aadError{400, "access_denied", 65004,
		"User declined to consent to access the app.", ""}
	errNotCommon = aadError{400, "invalid_request", 50194,
		"Application is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant.", ""}
)

func errSecretExpired(clientID string) aadError {
	return aadError{401, "invalid_client", 7000222, fmt.Sprintf(
		"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app or consider using certificate credentials for added security.", clientID), ""}
}

func errConsentRequired(clientID string) aadError {
	return aadError{400, "invalid_grant", 65001, fmt.Sprintf(
		"The user or administrator has not consented to use the application with ID '%s'. Send an interactive authorization request for this user and resource.", clientID), "consent_required"}
}

func errUserNotInTenant(upn, tenant string) aadError {
	return aadError{400, "access_denied", 50020, fmt.Sprintf(
		"User account '%s' from identity provider 'https://sts.windows.net/' does not exist in tenant '%s' and cannot access the application in that tenant. The account needs to be added as an external user in the tenant first.", upn, tenant), ""}
}

func errBadScope(scope string) aadError {
	return aadError{400, "invalid_scope", 70011, fmt.Sprintf(
		"The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope %s is not valid.", scope), ""}
}

func errRedirectNotRegistered(uri, clientID string) aadError {
	return aadError{400, "invalid_request", 50011, fmt.Sprintf(
		"The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.", uri, clientID), ""}
}

func errTenantNotFound(tenant string) aadError {
	return aadError{400, "invalid_tenant", 90002, fmt.Sprintf(
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant), ""}
}

// writeTokenError writes the token endpoint's JSON error body.
func (s *Server) writeTokenError(w http.ResponseWriter, r *http.Request, e aadError) {
	now := s.now()
	trace, corr := newGUID(), newGUID()
	if c := r.Header.Get("client-request-id"); c != "" {
		corr = c
	}
	body := map[string]any{
		"error":             e.Error,
		"error_description": e.description(now, trace, corr),
		"error_codes":       []int{e.Code},
		"timestamp":         now.UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         fmt.Sprintf("%s/error?code=%d", baseURL(r), e.Code),
	}
	if e.SubError != "" {
		body["suberror"] = e.SubError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(body)
}

func errNotAssigned(upn, clientID string) aadError {
	return aadError{400, "access_denied", 50105, fmt.Sprintf(
		"Your administrator has configured the application %s to block users unless they are specifically granted ('assigned') access to the application. The signed in user '%s' is blocked because they are not a direct member of a group with access, nor had access directly assigned by an administrator.", clientID, upn), ""}
}
