package obs_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/bus"
	"github.com/pgcollector/pgcollector/internal/config"
	"github.com/pgcollector/pgcollector/internal/obs"
)

// TestServerOverTLSWithAMountedHandler: with PGC_HTTP_TLS_CERT/KEY the
// server speaks only HTTPS, a mounted handler (the API) is served beside
// /healthz, and bad or half-given files are configuration errors.
func TestServerOverTLSWithAMountedHandler(t *testing.T) {
	_, pool, _ := seeded(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Default[bus.Config]()
	cfg.DataDir = t.TempDir()
	b, err := bus.Open(t.Context(), cfg, log)
	require.NoError(t, err)
	t.Cleanup(b.Close)
	s, err := obs.NewServer("127.0.0.1:0", obs.NewMetrics("test"), pool, b, log)
	require.NoError(t, err)

	dir := t.TempDir()
	certFile, keyFile, pemCert := selfSigned(t, dir)
	require.ErrorContains(t, s.UseTLS(certFile, ""), "PGC_HTTP_TLS_CERT")
	require.ErrorContains(t, s.UseTLS(keyFile, keyFile), "PGC_HTTP_TLS_CERT")
	require.NoError(t, s.UseTLS(certFile, keyFile))
	s.Mount("/api/v1/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("mounted")) }))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pemCert))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	defer client.CloseIdleConnections()
	for path, want := range map[string]string{"/healthz": "ok\n", "/api/v1/x": "mounted"} {
		resp, err := client.Get("https://" + l.Addr().String() + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, want, string(body))
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + l.Addr().String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP to the TLS port is refused")
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pemCert []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pgcollector test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	pemCert = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pemCert, 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600))
	return certFile, keyFile, pemCert
}
