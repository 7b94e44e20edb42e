package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpload/mcpload/internal/hostile"
	"github.com/mcpload/mcpload/record"
)

// testPKI is a certificate authority made for one test, with the files
// of the certificates it issued.
type testPKI struct {
	dir  string
	ca   *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	// CAFile is the CA's certificate, PEM.
	CAFile string
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mcpload test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), ca: ca, key: key, pool: x509.NewCertPool()}
	p.pool.AddCert(ca)
	p.CAFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// issue makes a server certificate (for 127.0.0.1 and dnsNames) or a
// client one, and returns it with its cert and key files.
func (p *testPKI) issue(t *testing.T, name string, client bool, dnsNames ...string) (tls.Certificate, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dnsNames,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if client {
		tmpl.ExtKeyUsage, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile := p.write(t, name+".pem", "CERTIFICATE", der)
	keyFile := p.write(t, name+"-key.pem", "EC PRIVATE KEY", kder)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certFile, keyFile
}

// tlsMock serves the built-in mock of headerScenario over TLS with conf.
func tlsMock(t *testing.T, conf *tls.Config) *httptest.Server {
	t.Helper()
	return tlsServer(t, conf, mockHandler(t, headerScenario("mock", "mock", "", "")))
}

func tlsServer(t *testing.T, conf *tls.Config, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = conf
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// tlsRun runs headerScenario with the provider and server at base, both
// with the tls section tlsYAML, and returns the summary and stderr.
func tlsRun(t *testing.T, base, tlsYAML string, env []string, args ...string) (int, string, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	sec := "    tls: " + tlsYAML
	// A provider off loopback needs a key.
	path := writeScenario(t, headerScenario(base+"/providers/p/v1", base+"/mcp/tools", sec+"\n    api_key_env: MCPLOAD_TLS_KEY", sec))
	env = append(env, "MCPLOAD_TLS_KEY=sk-tls-test-key")
	code, _, stderr := mcploadProcessEnv(t, env, append([]string{"run", path, "--out", dir, "--progress", "off"}, args...)...)
	return code, dir, stderr
}

func allOK(t *testing.T, dir, stderr string) {
	t.Helper()
	s := readSummary(t, dir)
	if c := s.Conversations; c.Started == 0 || c.OK != c.Started {
		t.Fatalf("conversations %+v, want all ok; stderr:\n%s", c, stderr)
	}
}

// TestTLSCAFileAndClientCertificate: a server whose certificate only the
// scenario's CA vouches for, and which demands a client certificate, is
// loaded with ca_file, cert_file and key_file; without the client
// certificate, every conversation fails.
func TestTLSCAFileAndClientCertificate(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts processes")
	}
	pki := newPKI(t)
	server, _, _ := pki.issue(t, "server", false)
	_, certFile, keyFile := pki.issue(t, "client", true)
	srv := tlsMock(t, &tls.Config{Certificates: []tls.Certificate{server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pki.pool})

	code, dir, stderr := tlsRun(t, srv.URL, "{ca_file: "+pki.CAFile+", cert_file: "+certFile+", key_file: "+keyFile+"}", nil)
	if code != exitPass {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	allOK(t, dir, stderr)

	_, dir, stderr = tlsRun(t, srv.URL, "{ca_file: "+pki.CAFile+"}", nil)
	if s := readSummary(t, dir); s.Conversations.Started == 0 || s.Conversations.OK != 0 {
		t.Fatalf("without the client certificate: conversations %+v, want none ok; stderr:\n%s", s.Conversations, stderr)
	}
}

// TestInsecureSkipVerifyIsLoud: skip-verify loads a server no CA vouches
// for, and says so on stderr and in summary.json.
func TestInsecureSkipVerifyIsLoud(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	srv := tlsMock(t, nil) // httptest's own certificate
	code, dir, stderr := tlsRun(t, srv.URL, "{insecure_skip_verify: true}", nil)
	if code != exitPass {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	allOK(t, dir, stderr)
	for _, w := range []string{"WARNING: providers.p.tls.insecure_skip_verify is on", "WARNING: mcp_servers.tools.tls.insecure_skip_verify is on"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if w := readSummary(t, dir).Warnings; len(w) != 2 || !strings.Contains(w[0], "certificate is not verified") {
		t.Errorf("summary.json warnings = %q", w)
	}
}

// connectProxy is an HTTP CONNECT proxy that counts its tunnels and opens
// each to target, whatever host was asked for: the test's names are
// .invalid, which no resolver knows, so nothing leaves loopback.
type connectProxy struct {
	target  string
	tunnels atomic.Int64
	hosts   chan string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	select {
	case p.hosts <- r.Host:
	default:
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	p.tunnels.Add(1)
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		up.Close()
		return
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	go func() { _, _ = io.Copy(up, bufio.NewReader(buf)); up.Close() }()
	_, _ = io.Copy(conn, up)
	conn.Close()
}

// TestHTTPSProxyFromEnvironment: with HTTPS_PROXY set to a loopback
// proxy, a provider and an MCP server on a name only the proxy reaches
// are loaded through it.
func TestHTTPSProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	pki := newPKI(t)
	server, _, _ := pki.issue(t, "server", false, "gateway.invalid")
	// The mock's MCP server, the go-sdk's, refuses a Host off loopback
	// on a loopback listener (DNS rebinding protection); a plain one
	// serves the tool here.
	mux := http.NewServeMux()
	mux.Handle("/providers/", mockHandler(t, headerScenario("mock", "mock", "", "")))
	mux.Handle("/mcp/", hostile.MCPServer(func(w http.ResponseWriter, _ *http.Request, id json.RawMessage) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"sunny"}]}}`, id)
	}))
	srv := tlsServer(t, &tls.Config{Certificates: []tls.Certificate{server}}, mux)
	proxy := &connectProxy{target: srv.Listener.Addr().String(), hosts: make(chan string, 1)}
	psrv := httptest.NewServer(proxy)
	defer psrv.Close()

	code, dir, stderr := tlsRun(t, "https://gateway.invalid", "{ca_file: "+pki.CAFile+"}",
		[]string{"HTTPS_PROXY=" + psrv.URL, "NO_PROXY="}, "--allow-remote")
	if code != exitPass {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	allOK(t, dir, stderr)
	if n := proxy.tunnels.Load(); n == 0 {
		t.Fatal("no request went through the proxy")
	}
	if h := <-proxy.hosts; h != "gateway.invalid:443" {
		t.Errorf("the proxy was asked for %q", h)
	}
}

// TestRemoteProxyRefused: a proxy off loopback is refused before any
// request, naming the variable; --allow-remote is what allows it.
func TestRemoteProxyRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	path := writeScenario(t, headerScenario("https://gateway.invalid/v1", "mock", "", ""))
	// 192.0.2.1 is a documentation address: the check refuses it before
	// any dial, and nothing is sent.
	t.Setenv("HTTPS_PROXY", "http://192.0.2.1:8080")
	t.Setenv("NO_PROXY", "")
	code, _, stderr := mcpload(t, "run", path, "--out", dir, "--progress", "off")
	if code != exitInvalid || !strings.Contains(stderr, "proxy http://192.0.2.1:8080 (from HTTPS_PROXY) is not on loopback") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, record.SummaryFile)); err == nil {
		t.Error("a refused run wrote a summary")
	}
}
