package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/pgcollector/pgcollector/internal/access"
)

// errorBody is every error response: field names the input at fault.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, field string) {
	writeJSON(w, status, errorBody{Error: msg, Field: field})
}

// fail maps an access error to its status. Unexpected errors are logged
// and answered with a generic message: they may carry datastore detail.
func fail(w http.ResponseWriter, log *slog.Logger, err error) {
	var ve *access.ValidationError
	switch {
	case errors.As(err, &ve):
		writeError(w, http.StatusBadRequest, ve.Error(), ve.Field)
	case errors.Is(err, access.ErrNotFound):
		writeError(w, http.StatusNotFound, "not found", "")
	case errors.Is(err, access.ErrForbidden):
		writeError(w, http.StatusForbidden, err.Error(), "")
	case errors.Is(err, access.ErrConflict):
		writeError(w, http.StatusConflict, err.Error(), "")
	default:
		log.Error("API request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "internal error (see the collector's log)", "")
	}
}

// decode reads a JSON object into v, rejecting unknown fields, trailing
// data and oversized bodies, and names the field of a type mismatch.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d bytes", tooBig.Limit), "body")
	case errors.As(err, &typeErr):
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: must be a %s", typeErr.Field, typeErr.Type), typeErr.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		writeError(w, http.StatusBadRequest, field+": unknown field", field)
	default:
		writeError(w, http.StatusBadRequest, "body: not a JSON object: "+err.Error(), "body")
	}
	return false
}
