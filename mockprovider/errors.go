package mockprovider

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/mcpload/mcpload/wire/openaichat"
)

// apiError is an error answered in OpenAI's shape:
// {"error":{"message","type","param","code"}}.
type apiError struct {
	status  int
	message string
	typ     string
	param   string // "" is null
	code    string // "" is null
}

// OpenAI's error types used by the mock.
const (
	typeInvalidRequest = "invalid_request_error"
	typeServer         = "server_error"
)

func invalidRequest(message, param, code string) *apiError {
	return &apiError{status: http.StatusBadRequest, message: message, typ: typeInvalidRequest, param: param, code: code}
}

func (e *apiError) Error() string { return e.message }

// maxDrain bounds what drain reads: past it, closing the connection is
// cheaper than reading on.
const maxDrain = 4 << 20

// drain reads what is left of a request body that an error answer does not
// need, so that the client's connection can carry its next request (net/http
// only discards up to 256 KiB by itself).
func drain(r *http.Request) {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
}

// writeError writes e as the response.
func writeError(w http.ResponseWriter, e *apiError) {
	body := openaichat.ErrorBody{Error: openaichat.ErrorDetail{Message: e.message, Type: e.typ}}
	if e.param != "" {
		body.Error.Param = &e.param
	}
	if e.code != "" {
		body.Error.Code = &e.code
	}
	b, _ := json.Marshal(body) // plain strings: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(e.status)
	w.Write(append(b, '\n'))
}

// methodNotAllowed answers a wrong method on an OpenAI-style route.
func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	drain(r)
	w.Header().Set("Allow", allow)
	writeError(w, &apiError{
		status:  http.StatusMethodNotAllowed,
		message: "Method " + r.Method + " is not allowed for " + r.URL.Path + "; use " + allow + ".",
		typ:     typeInvalidRequest,
		code:    "method_not_allowed",
	})
}

// notFound answers a path the mock does not serve, as OpenAI does.
func notFound(w http.ResponseWriter, r *http.Request) {
	drain(r)
	writeError(w, &apiError{
		status:  http.StatusNotFound,
		message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")",
		typ:     typeInvalidRequest,
	})
}
