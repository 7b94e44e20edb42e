package mockprovider

import (
	"encoding/json"
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
	writeError(w, &apiError{
		status:  http.StatusNotFound,
		message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")",
		typ:     typeInvalidRequest,
	})
}
