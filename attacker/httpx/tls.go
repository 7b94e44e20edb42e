package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpload/mcpload/record"
	"github.com/mcpload/mcpload/scenarios"
)

// maxPEMBytes bounds a CA or certificate file: a bundle of a few hundred
// certificates is well under it.
const maxPEMBytes = 4 << 20

// TLSConfig builds the client TLS configuration of a target's tls
// section: the CA file as the only roots, the client certificate for
// mutual TLS, and skip-verify. base, when set, is the transport's own
// configuration (its ALPN protocols, say) to start from. home expands a
// leading "~".
func TLSConfig(t *scenarios.TLS, base *tls.Config, home string) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		c = base.Clone()
	}
	if t.CAFile != "" {
		data, err := readPEM(t.CAFile, home)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
		c.RootCAs = pool
	}
	if t.CertFile != "" || t.KeyFile != "" {
		cert, err := readPEM(t.CertFile, home)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		key, err := readPEM(t.KeyFile, home)
		if err != nil {
			return nil, fmt.Errorf("tls.key_file: %w", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			// The error never holds the key's bytes.
			return nil, fmt.Errorf("tls.cert_file and key_file: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	c.InsecureSkipVerify = t.InsecureSkipVerify
	return c, nil
}

func readPEM(path, home string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("missing")
	}
	if (path == "~" || strings.HasPrefix(path, "~/")) && home != "" {
		path = filepath.Join(home, strings.TrimPrefix(path, "~"))
	}
	data, err := record.ReadRegular(path, maxPEMBytes)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// WithTLS returns a client like c whose transport, a copy of c's, uses
// conf. c's transport must be an *http.Transport: TLS options cannot be
// given to any other.
func WithTLS(c *http.Client, conf *tls.Config) (*http.Client, error) {
	tr, ok := c.Transport.(*http.Transport)
	if !ok {
		if c.Transport != nil {
			return nil, fmt.Errorf("tls: the HTTP client's transport (%T) takes no TLS options", c.Transport)
		}
		tr = http.DefaultTransport.(*http.Transport)
	}
	tr = tr.Clone()
	tr.TLSClientConfig = conf
	cc := *c
	cc.Transport = tr
	return &cc, nil
}

// BaseTLS is the TLS configuration c's transport starts from, or nil.
func BaseTLS(c *http.Client) *tls.Config {
	if tr, ok := c.Transport.(*http.Transport); ok {
		return tr.TLSClientConfig
	}
	return nil
}

// HomeDir is $HOME, or the user's home directory, for "~" in paths; ""
// when neither is known.
func HomeDir(getenv func(string) string) string {
	if h := getenv("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}
