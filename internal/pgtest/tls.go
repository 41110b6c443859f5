package pgtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsDir holds a TLS cluster's certificates, inside the cluster directory
// so that Close removes them with everything else.
const tlsDir = "tls"

// CA is a throwaway certificate authority. Its certificate file is what a
// client passes as sslrootcert.
type CA struct {
	CertFile string // PEM certificate
	cert     *x509.Certificate
	key      *ecdsa.PrivateKey
}

// NewCA makes a certificate authority in dir, such as one unrelated to a
// cluster's, to show that verification fails with the wrong CA.
func NewCA(dir, name string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := certTemplate(name)
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	ca := &CA{CertFile: filepath.Join(dir, name+".crt"), cert: cert, key: key}
	if err := writePEM(ca.CertFile, "CERTIFICATE", der, 0o644); err != nil {
		return nil, err
	}
	return ca, nil
}

// Issue writes a certificate for commonName signed by the CA, and its key,
// into dir. hosts (IP addresses or DNS names) make it a server
// certificate; none makes it a client certificate, whose common name is
// the role it logs in as.
func (ca *CA) Issue(dir, commonName string, hosts ...string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate key: %w", err)
	}
	tmpl := certTemplate(commonName)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return "", "", fmt.Errorf("create certificate for %s: %w", commonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("marshal key: %w", err)
	}
	base := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(commonName))
	certFile, keyFile = base+".crt", base+".key"
	if err := writePEM(certFile, "CERTIFICATE", der, 0o644); err != nil {
		return "", "", err
	}
	// Both libpq and the server refuse a key that others may read.
	if err := writePEM(keyFile, "PRIVATE KEY", keyDER, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

func certTemplate(commonName string) *x509.Certificate {
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName, Organization: []string{"pgtest"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(7 * 24 * time.Hour),
	}
}

func writePEM(path, kind string, der []byte, mode os.FileMode) error {
	b := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, b, mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeTLS makes the cluster's CA and a server certificate for 127.0.0.1
// and localhost, and turns ssl on. ssl_ca_file lets hba "cert" lines
// check client certificates against the same CA.
func (c *Cluster) writeTLS() error {
	dir := filepath.Join(c.dir, tlsDir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	ca, err := NewCA(dir, "ca")
	if err != nil {
		return err
	}
	if err := writePEM(filepath.Join(dir, "ca.key"), "EC PRIVATE KEY", mustECKey(ca.key), 0o600); err != nil {
		return err
	}
	cert, key, err := ca.Issue(dir, "server", "127.0.0.1", "localhost")
	if err != nil {
		return err
	}
	if c.cred != nil {
		// The server checks that it owns its key file.
		for _, p := range []string{dir, cert, key, ca.CertFile} {
			if err := os.Chown(p, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return fmt.Errorf("chown %s: %w", p, err)
			}
		}
	}
	return appendConf(filepath.Join(c.DataDir, "postgresql.conf"), []string{
		"\n# pgtest: TLS with a throwaway CA (Options.TLS).",
		"ssl = on",
		"ssl_cert_file = " + quoteConf(cert),
		"ssl_key_file = " + quoteConf(key),
		"ssl_ca_file = " + quoteConf(ca.CertFile),
	})
}

func mustECKey(k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err) // only fails for curves Go does not support
	}
	return der
}

func appendConf(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// CAFile is the certificate of the CA that signed the server's certificate
// of a cluster started with Options.TLS: the right sslrootcert for it.
func (c *Cluster) CAFile() string { return filepath.Join(c.dir, tlsDir, "ca.crt") }

// ClientCert writes a client certificate for role, signed by the cluster's
// CA, into a test temporary directory, for hba "cert" authentication.
func (c *Cluster) ClientCert(t testing.TB, role string) (certFile, keyFile string) {
	t.Helper()
	ca, err := c.loadCA()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	certFile, keyFile, err = ca.Issue(t.TempDir(), role)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return certFile, keyFile
}

func (c *Cluster) loadCA() (*CA, error) {
	dir := filepath.Join(c.dir, tlsDir)
	certPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("cluster on port %d was not started with Options.TLS: %w", c.Port, err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, "ca.key"))
	if err != nil {
		return nil, fmt.Errorf("read CA key: %w", err)
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, fmt.Errorf("CA files in %s are not PEM", dir)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse CA key: %w", err)
	}
	return &CA{CertFile: filepath.Join(dir, "ca.crt"), cert: cert, key: key}, nil
}
