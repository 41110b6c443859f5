package main

import (
	"context"
	"encoding/json"
	"image"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/obs/browsertest"
	"github.com/pgcollector/pgcollector/internal/pgtest"
)

// TestAcceptancePageManagesConnections drives the fleet page of the real
// binary (PGC_API_ENABLED) in headless Chromium, through a proxy that
// keeps everything the page received. Alice signs in with her token, adds
// a connection through the form (its password a canary) on a port where
// nothing listens, edits the port to the monitored server's — samples
// arrive, so the password typed once was kept — has a bad port refused
// at the port field with nothing changed, and disables and enables it;
// the datastore shows each change, owned by alice and audited. Bob, signed
// in on the same tab after she signs out, sees none of it and cannot
// delete it; his revoked token signs the tab out; an admin sees alice's
// with its owner; alice deletes it after a confirm step. The
// canary is in no DOM, response, log or audit row, and no token is in a
// URL or cookie.
func TestAcceptancePageManagesConnections(t *testing.T) {
	ctx := context.Background()
	const canary = "page-Canary-5e71"
	addr := freeAddr(t)
	c := e2e.NewCollector(t, "PGC_HTTP_ADDR="+addr, "PGC_API_ENABLED=true", "PGC_CATALOG_REFRESH=1s")
	mon := pgtest.Start(t, pgtest.Options{})
	require.NoError(t, e2e.MonitorRole(ctx, mon, "pgc_monitor", canary))
	c.OnlyProbes(t, 2, "pg_connectivity", "pg_stat_database")
	c.MustRun(t, "", "user", "add", "alice")
	c.MustRun(t, "", "user", "add", "bob")
	c.MustRun(t, "", "user", "add", "--admin", "ops")
	alice := strings.TrimSpace(c.MustRun(t, "", "token", "create", "--user", "alice", "--name", "page"))
	bob := strings.TrimSpace(c.MustRun(t, "", "token", "create", "--user", "bob", "--name", "page"))
	ops := strings.TrimSpace(c.MustRun(t, "", "token", "create", "--user", "ops", "--name", "page"))
	proc := c.Start(t)
	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 30*time.Second, 200*time.Millisecond, "the HTTP server comes up")
	base, rec := recordingProxy(t, addr)

	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "form-action 'none'")

	b := browsertest.Launch(t)
	form := func(name string) chromedp.CSS { return chromedp.CSS(`#conn-form [name="` + name + `"]`) }
	// retype empties a field the way a user selecting its text would,
	// then types v (chromedp.Clear resets only the default value).
	retype := func(name, v string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.Evaluate[chromedp.Void](`document.querySelector('#conn-form [name="`+name+`"]').value = ""`),
			chromedp.SendKeys(form(name), v))
	}
	row := func(name string) string { return `document.querySelector('#conn-list tr[data-name="` + name + `"]')` }
	b.Do(t, "open the page", chromedp.Navigate(base+"/"))
	signIn(t, b, alice, "alice")
	b.WaitFor(t, "alice's empty list", `document.getElementById("conn-list").textContent.includes("no connections")`)
	require.Equal(t, alice, browsertest.Eval[string](t, b, `sessionStorage.getItem("pgcollector.token")`))
	require.Zero(t, browsertest.Eval[int](t, b, `localStorage.length`))
	require.Empty(t, browsertest.Eval[string](t, b, `document.cookie`))

	b.Do(t, "add a connection", chromedp.Click(chromedp.ID("add")),
		chromedp.SendKeys(form("name"), "page-mon"), chromedp.SendKeys(form("host"), mon.Host),
		retype("port", strconv.Itoa(freePortNumber(t))),
		chromedp.SendKeys(form("username"), "pgc_monitor"), chromedp.SendKeys(form("password"), canary),
		chromedp.SetValue(form("sslmode"), "disable"), chromedp.Click(chromedp.CSS(`#conn-form [type="submit"]`)))
	b.WaitFor(t, "the new row", row("page-mon")+` !== null`)
	require.True(t, browsertest.Eval[bool](t, b, `document.getElementById("conn-form").hidden &&
		document.querySelector('#conn-form [name="password"]').value === ""`), "the saved form is reset")
	id := e2e.Value[int64](t, c, `SELECT id::bigint FROM public.connections WHERE name = 'page-mon'`)
	require.Equal(t, "alice", e2e.Value[string](t, c, `SELECT owner_username FROM public.connections WHERE id = $1`, id))
	require.True(t, e2e.Value[bool](t, c, `SELECT password_encrypted <> '' AND password_encrypted <> $2
		FROM public.connections WHERE id = $1`, id, canary), "stored encrypted")
	b.WaitFor(t, "the fleet grid to show it", `document.querySelector('#fleet [data-connection="page-mon"]') !== null`)

	b.Do(t, "edit the port", chromedp.Click(chromedp.CSS(`#conn-list tr[data-name="page-mon"] button.edit`)),
		retype("port", strconv.Itoa(mon.Port)),
		chromedp.Click(chromedp.CSS(`#conn-form [type="submit"]`)))
	b.WaitFor(t, "the row with the new port", row("page-mon")+`.textContent.includes(":`+strconv.Itoa(mon.Port)+`/postgres")`)
	require.Equal(t, mon.Port, e2e.Value[int](t, c, `SELECT port FROM public.connections WHERE id = $1`, id))
	require.Eventually(t, func() bool {
		return e2e.Value[int](t, c, `SELECT count(*)::int FROM metrics.pg_stat_database WHERE connection_id = $1`, id) > 0
	}, 60*time.Second, 500*time.Millisecond, "samples with the password typed at add and left unchanged by the edit")

	audits := func() []string {
		return e2e.Rows[string](t, c, `SELECT actor || ' ' || action || ' ' || COALESCE(details->>'fields', '')
			FROM public.audit_log WHERE target = $1 ORDER BY id`, "connection:"+strconv.FormatInt(id, 10))
	}
	require.Equal(t, []string{
		`user:alice connection.create ["database", "host", "name", "password", "port", "sslmode", "username"]`,
		`user:alice connection.update ["port"]`,
	}, audits(), "the edit sent the port only: no password")

	b.Do(t, "a bad port", chromedp.Click(chromedp.CSS(`#conn-list tr[data-name="page-mon"] button.edit`)),
		retype("port", "70000"),
		chromedp.Click(chromedp.CSS(`#conn-form [type="submit"]`)))
	b.WaitFor(t, "the error at the port field",
		`document.querySelector('#conn-form .field-error[data-field="port"]').textContent.includes("1..65535")`)
	require.Equal(t, "true", browsertest.Eval[string](t, b, `document.querySelector('#conn-form [name="port"]').getAttribute("aria-invalid")`))
	require.Equal(t, mon.Port, e2e.Value[int](t, c, `SELECT port FROM public.connections WHERE id = $1`, id), "nothing changed")
	require.Len(t, audits(), 2, "nothing audited")
	b.Do(t, "show the form", chromedp.ScrollIntoView(chromedp.ID("conn-form")))
	requirePanelDrawn(t, b, browsertest.RequirePage(t, b.Screenshot(t, t.TempDir(), "manage-error.png")))
	b.Do(t, "cancel the form", chromedp.Click(chromedp.ID("cancel")))

	monitored := func() bool {
		return e2e.Value[bool](t, c, `SELECT is_monitored FROM public.connections WHERE id = $1`, id)
	}
	b.Do(t, "disable", chromedp.Click(chromedp.CSS(`#conn-list tr[data-name="page-mon"] button.toggle`)))
	b.WaitFor(t, "the row disabled", row("page-mon")+`.classList.contains("off")`)
	require.False(t, monitored())
	b.Do(t, "enable", chromedp.Click(chromedp.CSS(`#conn-list tr[data-name="page-mon"] button.toggle`)))
	b.WaitFor(t, "the row monitored", `!`+row("page-mon")+`.classList.contains("off")`)
	require.True(t, monitored())
	require.Equal(t, []string{"user:alice connection.disable ", "user:alice connection.enable "}, audits()[2:])

	b.Do(t, "show the panel", chromedp.ScrollIntoView(chromedp.ID("manage")))
	requirePanelDrawn(t, b, browsertest.RequirePage(t, b.Screenshot(t, t.TempDir(), "manage.png")))

	b.Do(t, "sign out", chromedp.Click(chromedp.ID("signout")))
	b.WaitFor(t, "the sign-in form", `!document.getElementById("signin").hidden && sessionStorage.length === 0`)
	// With users, the page's own fleet grid is per user too: signed out it
	// shows nobody's connections, and bob never sees alice's.
	b.WaitFor(t, "the grid emptied on sign-out", `document.querySelector('#fleet [data-connection="page-mon"]') === null`)
	signIn(t, b, bob, "bob")
	b.WaitFor(t, "bob's empty list", `document.getElementById("conn-list").textContent.includes("no connections")`)
	require.NotContains(t, browsertest.Eval[string](t, b, `document.getElementById("manage").textContent`), "page-mon")
	b.WaitFor(t, "bob's grid refreshed", `document.getElementById("health").textContent !== "sign in to see your connections"`)
	require.NotContains(t, browsertest.Eval[string](t, b, `document.body.textContent`), "page-mon",
		"bob sees nothing of alice's connection anywhere on the page")
	requireDeleteRefused(t, b, c, id)

	var tokens []struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.MustRun(t, "", "token", "list", "--user", "bob", "--json")), &tokens))
	require.Len(t, tokens, 1)
	c.MustRun(t, "", "token", "revoke", strconv.FormatInt(tokens[0].ID, 10))
	b.Do(t, "reload with the revoked token", chromedp.Reload())
	b.WaitFor(t, "signed out, token refused", `document.getElementById("manage-note").textContent.includes("refused the token") &&
		!document.getElementById("signin").hidden && sessionStorage.length === 0`)

	// An admin sees every connection, with its owner.
	signIn(t, b, ops, "ops (admin: sees every connection)")
	b.WaitFor(t, "alice's connection in the admin's list", row("page-mon")+` !== null && `+row("page-mon")+`.textContent.includes("alice")`)
	b.Do(t, "sign out", chromedp.Click(chromedp.ID("signout")))
	b.WaitFor(t, "the sign-in form", `!document.getElementById("signin").hidden && sessionStorage.length === 0`)

	// Alice deletes her connection, after a confirm step.
	signIn(t, b, alice, "alice")
	requirePageDeletes(t, b, c, id, "page-mon", "alice")
	b.WaitFor(t, "the grid without it", `document.querySelector('#fleet [data-connection="page-mon"]') === null`)
	b.Do(t, "sign out", chromedp.Click(chromedp.ID("signout")))
	b.WaitFor(t, "the sign-in form", `!document.getElementById("signin").hidden && sessionStorage.length === 0`)

	dom := browsertest.Eval[string](t, b, `document.documentElement.outerHTML +
		[...document.querySelectorAll("input")].map((i) => i.value).join(" ")`)
	secrets := []string{canary, strings.TrimPrefix(alice, "pgc_"), strings.TrimPrefix(bob, "pgc_"), strings.TrimPrefix(ops, "pgc_")}
	for _, s := range secrets {
		require.NotContains(t, dom, s)
		require.NotContains(t, proc.Output(), s)
	}
	rec.requireClean(t, canary, secrets)
	require.Zero(t, e2e.Value[int](t, c, `SELECT count(*)::int FROM public.audit_log WHERE details::text LIKE '%' || $1 || '%'`, canary))
	require.Empty(t, b.Problems(), "uncaught exceptions or policy violations")
}

// signIn pastes a token into the sign-in form and waits for the panel to
// say who it belongs to.
func signIn(t *testing.T, b *browsertest.Browser, token, user string) {
	t.Helper()
	b.WaitFor(t, "the sign-in form", `!document.getElementById("signin").hidden`)
	b.Do(t, "sign in as "+user, chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`#signin [type="submit"]`)))
	b.WaitFor(t, user+" signed in", `document.getElementById("who").textContent === "signed in as `+user+`"`)
	require.Empty(t, browsertest.Eval[string](t, b, `document.getElementById("token").value`), "the token left the field")
}

// requirePanelDrawn checks that the panel's part of the screenshot holds
// a drawn table and form controls, not an empty box.
func requirePanelDrawn(t *testing.T, b *browsertest.Browser, img image.Image) {
	t.Helper()
	r := browsertest.Eval[[]float64](t, b, `(r => [r.left, r.top, r.right, Math.min(r.bottom, innerHeight)])(
		document.getElementById("manage").getBoundingClientRect())`)
	panel := image.Rect(int(r[0]), int(r[1]), int(r[2]), int(r[3])).Intersect(img.Bounds())
	require.Greater(t, panel.Dy(), 100, "the panel is in view: %v", panel)
	require.Greater(t, browsertest.Colours(img, panel), 20, "the panel is drawn")
}
