package httpx

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// CheckTarget refuses a non-loopback target unless allowRemote is set:
// a provider on the internet bills every request, so pointing a load test at
// one must be a deliberate act, not a typo in base_url.
func CheckTarget(rawURL string, allowRemote bool) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("target %q: %w", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("target %q: scheme must be http or https", rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("target %q: no host", rawURL)
	}
	if IsLoopbackHost(host) || allowRemote {
		return nil
	}
	return fmt.Errorf("target %s is not on loopback: real targets spend real money, so pass --allow-remote to load it", u.Redacted())
}

// IsLoopbackHost reports whether host is localhost or a loopback IP. Names
// other than localhost are not resolved: DNS can change between the check
// and the run, so only a literal counts.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
