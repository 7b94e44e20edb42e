package policy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/mcpload/mcpload/record"
)

// dialErr wraps errno as http.Client.Do reports a failed dial.
func dialErr(errno syscall.Errno) error {
	return &url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1/chat/completions", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", errno),
	}}
}

func TestTransportOutcomeLocal(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"EMFILE", dialErr(syscall.EMFILE), record.OutcomeLocal},
		{"ENFILE", dialErr(syscall.ENFILE), record.OutcomeLocal},
		{"ENOMEM", dialErr(syscall.ENOMEM), record.OutcomeLocal},
		{"ENOBUFS", dialErr(syscall.ENOBUFS), record.OutcomeLocal},
		{"EADDRNOTAVAIL", dialErr(syscall.EADDRNOTAVAIL), record.OutcomeLocal},
		{"ECONNREFUSED is the target's", dialErr(syscall.ECONNREFUSED), record.OutcomeConnection},
		{"ECONNRESET is the target's", dialErr(syscall.ECONNRESET), record.OutcomeConnection},
		{"deadline", context.DeadlineExceeded, record.OutcomeTimeout},
		{"plain", errors.New("EOF"), record.OutcomeConnection},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := OutcomeOf(nil, tc.err); got != tc.want {
				t.Errorf("OutcomeOf(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}

// TestTransportOutcomeRealLocalError dials loopback from an address this
// host does not have: the kernel refuses the bind with EADDRNOTAVAIL, as it
// does when the ephemeral ports run out, before any packet is sent.
func TestTransportOutcomeRealLocalError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)}, // TEST-NET-1, on no interface here
		Timeout:   5 * time.Second,
	}).DialContext}}
	_, err = c.Get("http://" + ln.Addr().String() + "/")
	if err == nil {
		t.Fatal("the dial from an address not on this host succeeded")
	}
	if got := OutcomeOf(nil, err); got != record.OutcomeLocal {
		t.Errorf("OutcomeOf(%v) = %q, want local", err, got)
	}
}

// TestRetryDoesNotRetryLocal: the default retry.on retries connection
// errors, and a descriptor table that is full is not one: retrying adds
// load to mcpload, not to the target.
func TestRetryDoesNotRetryLocal(t *testing.T) {
	s := &script{answers: []func(*http.Request) (*http.Response, error){
		func(*http.Request) (*http.Response, error) { return nil, dialErr(syscall.EMFILE) },
	}}
	_, sink, req := newStep(t, context.Background())
	_, err := NewRetry(s, quick()).RoundTrip(req)
	if s.calls.Load() != 1 {
		t.Errorf("%d calls, want 1", s.calls.Load())
	}
	if got := OutcomeOf(nil, err); got != record.OutcomeLocal {
		t.Errorf("outcome %q (%v), want local", got, err)
	}
	if n := sink.kinds()[record.EventRetry]; n != 0 {
		t.Errorf("%d retry events, want 0", n)
	}
}
