package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// TestErrorKindsSurviveTheWire: the client's error matches its kind
// through wrapping, by code or (from an older agent) by status.
func TestErrorKindsSurviveTheWire(t *testing.T) {
	for _, c := range []struct {
		status int
		body   ErrorBody
		want   error
	}{
		{http.StatusNotFound, ErrorBody{Error: `postgres cluster "x" not found`, Code: CodeNotFound}, ErrNotFound},
		{http.StatusNotFound, ErrorBody{Error: "no such wireguard peer: p"}, ErrNotFound},
		{http.StatusBadRequest, ErrorBody{Error: "bad name", Code: CodeBadRequest}, ErrBadRequest},
		{http.StatusConflict, ErrorBody{Error: "peer exists", Code: CodeConflict}, ErrConflict},
	} {
		err := fmt.Errorf("context: %w", FromReply(c.status, c.body))
		if !errors.Is(err, c.want) {
			t.Errorf("%d %+v: not %v", c.status, c.body, c.want)
		}
		if err.Error() != "context: "+c.body.Error {
			t.Errorf("message %q", err.Error())
		}
	}
	if errors.Is(FromReply(http.StatusInternalServerError, ErrorBody{Error: "not found in the text"}), ErrNotFound) {
		t.Error("a 500 whose text says not found matched ErrNotFound")
	}
}
