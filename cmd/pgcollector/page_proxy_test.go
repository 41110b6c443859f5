package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// exchange is one request the page sent and the response it received.
type exchange struct {
	method, url  string
	header       http.Header // of the request
	setCookie    string
	status       int
	responseBody string
}

// recorder keeps every exchange between the browser and the collector.
type recorder struct {
	mu  sync.Mutex
	all []exchange
}

// recordingProxy serves a reverse proxy to the collector at addr and
// returns its base URL: the browser loads the page through it, so the
// recorder holds everything the page sent and received.
func recordingProxy(t *testing.T, addr string) (string, *recorder) {
	t.Helper()
	rec := &recorder{}
	target := &url.URL{Scheme: "http", Host: addr}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.Out.Header.Del("Accept-Encoding") // bodies as the page reads them
	}}
	rp.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		rec.mu.Lock()
		rec.all = append(rec.all, exchange{method: resp.Request.Method, url: resp.Request.URL.String(),
			header: resp.Request.Header.Clone(), setCookie: resp.Header.Get("Set-Cookie"), status: resp.StatusCode,
			responseBody: string(body)})
		rec.mu.Unlock()
		return err
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

// requireClean checks every exchange: no response holds the password, no
// URL holds it or a token, nothing sets or sends a cookie, and every API
// call after the first look at /api/v1/me carries a bearer token.
func (r *recorder) requireClean(t *testing.T, password string, tokens []string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	api, bearer := 0, 0
	for _, e := range r.all {
		require.NotContains(t, e.responseBody, password, "%s %s", e.method, e.url)
		for _, s := range append([]string{password}, tokens...) {
			require.NotContains(t, e.url, s)
		}
		require.Empty(t, e.setCookie, "%s %s sets a cookie", e.method, e.url)
		require.Empty(t, e.header.Get("Cookie"), "%s %s sends a cookie", e.method, e.url)
		if strings.HasPrefix(e.url, "/api/v1/") || strings.Contains(e.url, "/api/v1/") {
			api++
			if strings.HasPrefix(e.header.Get("Authorization"), "Bearer pgc_") {
				bearer++
			}
		}
	}
	require.Greater(t, api, 10, "the page called the API")
	require.Equal(t, api-1, bearer, "every API call but the first /me carries the token")
}
