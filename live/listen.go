package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/mcpload/mcpload/attacker/httpx"
)

// AddrError is an address flag that is wrong as written: not host:port,
// or off loopback without --allow-remote. The command exits 2 on it.
type AddrError struct {
	Flag, Addr, Why string
}

func (e *AddrError) Error() string { return fmt.Sprintf("%s %q: %s", e.Flag, e.Addr, e.Why) }

// Listen listens on addr, the value of the flag named flag. An address
// that is not on loopback (an empty host is every interface) needs
// allowRemote: the metrics and the page tell anyone who can reach them
// what the run is doing.
func Listen(flag, addr string, allowRemote bool) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &AddrError{flag, addr, "expected host:port, as in 127.0.0.1:9464"}
	}
	if port == "" {
		return nil, &AddrError{flag, addr, "no port (use :0 for any free port)"}
	}
	if !httpx.IsLoopbackHost(host) && !allowRemote {
		return nil, &AddrError{flag, addr, "not on loopback: serving the run's metrics off this machine needs --allow-remote"}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, addr, err)
	}
	return ln, nil
}

// Server serves a handler on a listener until Close.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan error
}

// Serve serves h on ln.
func Serve(ln net.Listener, h http.Handler) *Server {
	s := &Server{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// URL is the server's base URL, as in http://127.0.0.1:9464.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server; connections still open (a dashboard's event
// stream) are cut after a second.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
