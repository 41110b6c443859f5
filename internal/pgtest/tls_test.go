package pgtest

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTLSCluster checks what the TLS option promises: the server speaks
// TLS with a certificate for 127.0.0.1 that its CA verifies, another CA
// does not, hba lines can demand TLS of a role, and client certificates
// from the cluster's CA authenticate with "cert".
func TestTLSCluster(t *testing.T) {
	c := Start(t, Options{TLS: true, HBA: []string{
		"hostssl all tlsonly 127.0.0.1/32 scram-sha-256",
		"hostnossl all tlsonly 127.0.0.1/32 reject",
		"hostssl all certuser 127.0.0.1/32 cert",
	}})
	c.Exec(t, "postgres", "CREATE ROLE tlsonly LOGIN PASSWORD 'pw'", "CREATE ROLE certuser LOGIN")

	dsn := func(user, query string) string {
		u := url.URL{Scheme: "postgres", User: url.UserPassword(user, "pw"),
			Host: fmt.Sprintf("%s:%d", c.Host, c.Port), Path: "/postgres", RawQuery: query}
		return u.String()
	}
	verify := "sslmode=verify-full&sslrootcert=" + url.QueryEscape(c.CAFile())

	conn := connect(t, dsn("tlsonly", verify))
	require.Equal(t, "true", queryString(t, conn, "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))

	_, err := tryConnect(dsn("tlsonly", "sslmode=disable"))
	require.ErrorContains(t, err, "pg_hba.conf rejects connection", "hostnossl reject")

	other, err := NewCA(t.TempDir(), "other")
	require.NoError(t, err)
	_, err = tryConnect(dsn("tlsonly", "sslmode=verify-full&sslrootcert="+url.QueryEscape(other.CertFile)))
	require.ErrorContains(t, err, "certificate signed by unknown authority")

	cert, key := c.ClientCert(t, "certuser")
	conn = connect(t, dsn("certuser", verify+"&sslcert="+url.QueryEscape(cert)+"&sslkey="+url.QueryEscape(key)))
	require.Equal(t, "certuser", queryString(t, conn, "SELECT current_user::text"))
	_, err = tryConnect(dsn("certuser", verify))
	require.Error(t, err, "cert authentication without a client certificate")
}
