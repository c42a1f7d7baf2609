package codec

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// MinTokenLength is the shortest operator token the codec server accepts:
// a guessable token would hand every partner's personal data to whoever
// can reach the server.
const MinTokenLength = 16

// Handler serves Temporal's remote codec protocol (POST .../encode and
// .../decode with a JSON Payloads body) for the Web UI and the CLI, so an
// operator sees decoded inputs, results and state while the server only
// stores ciphertext.
//
// Every request but a CORS preflight must carry the operator token, either
// as "Authorization: Bearer TOKEN" (the CLI's --codec-auth) or as the first
// segment of the path, /TOKEN/decode: the Web UI sends no header of its own
// unless it has an OIDC login to pass on, so its codec endpoint is
// http://host:port/TOKEN. The token is compared in constant time. CORS
// answers only the listed Web UI origins (scheme://host:port, exactly).
func Handler(c *Codec, token string, uiOrigins []string) http.Handler {
	want := sha256.Sum256([]byte(token))
	inner := converter.NewPayloadCodecHTTPHandler(c)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && slices.Contains(uiOrigins, o) {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Headers", "Authorization,Content-Type,X-Namespace")
			h.Set("Access-Control-Allow-Methods", "POST,OPTIONS")
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		got, rest := splitToken(r)
		sum := sha256.Sum256([]byte(got))
		if got == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			http.Error(w, "codec server: an operator token is required (Authorization: Bearer TOKEN, or the endpoint http://host:port/TOKEN)", http.StatusUnauthorized)
			return
		}
		if rest != "/encode" && rest != "/decode" {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = rest
		inner.ServeHTTP(w, r2)
	})
}

// splitToken returns the request's token and the path after it.
func splitToken(r *http.Request) (token, rest string) {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t), r.URL.Path
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	i := strings.IndexByte(p, '/')
	if i < 0 {
		return "", r.URL.Path
	}
	return p[:i], p[i:]
}
