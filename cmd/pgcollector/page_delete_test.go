package main

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/pgcollector/pgcollector/internal/e2e"
	"github.com/pgcollector/pgcollector/internal/obs/browsertest"
)

// requireDeleteRefused: the tab's signed-in user (not the owner) sends
// the page's own DELETE for connection id; it is answered exactly as for
// an id that does not exist, and the connection and audit log are as they
// were. The page offers no button for it: the row is not in the list.
func requireDeleteRefused(t *testing.T, b *browsertest.Browser, c *e2e.Collector, id int64) {
	t.Helper()
	count := func() int {
		return e2e.Value[int](t, c, `SELECT count(*)::int FROM public.connections WHERE id = $1`, id)
	}
	audits := func() int { return e2e.Value[int](t, c, `SELECT count(*)::int FROM public.audit_log`) }
	before := audits()
	del := func(target int64, key string) string {
		require.True(t, browsertest.Eval[bool](t, b, `(fetch("/api/v1/connections/`+strconv.FormatInt(target, 10)+`", {
			method: "DELETE", cache: "no-store", credentials: "omit",
			headers: {Authorization: "Bearer " + sessionStorage.getItem("pgcollector.token")}})
			.then((r) => r.text().then((body) => { window["`+key+`"] = r.status + " " + body; })), true)`))
		b.WaitFor(t, "the answer to "+key, `typeof window["`+key+`"] === "string"`)
		return browsertest.Eval[string](t, b, `window["`+key+`"]`)
	}
	theirs := del(id, "deleteTheirs")
	missing := del(1<<40, "deleteMissing")
	require.Contains(t, theirs, "404 ")
	require.Equal(t, missing, theirs, "another user's connection looks exactly like a missing one")
	require.Equal(t, 1, count(), "the connection is still there")
	require.Equal(t, before, audits(), "nothing audited")
}

// requirePageDeletes: the owner deletes connection name from the list. The
// first Delete only asks; Keep leaves it; Delete for good removes it from
// the list and the datastore, audited as the owner in the same change.
func requirePageDeletes(t *testing.T, b *browsertest.Browser, c *e2e.Collector, id int64, name, owner string) {
	t.Helper()
	row := `#conn-list tr[data-name="` + name + `"]`
	count := func() int {
		return e2e.Value[int](t, c, `SELECT count(*)::int FROM public.connections WHERE id = $1`, id)
	}
	b.WaitFor(t, "the row to delete", `document.querySelector('`+row+`') !== null`)
	b.Do(t, "ask to delete", chromedp.Click(chromedp.CSS(row+` button.delete`)))
	b.WaitFor(t, "the confirm step", `document.querySelector('`+row+` .confirm').textContent.includes("Delete `+name+`?")`)
	require.Equal(t, 1, count(), "asking deletes nothing")
	b.Do(t, "keep it", chromedp.Click(chromedp.CSS(row+` button.keep`)))
	b.WaitFor(t, "the row's buttons back", `document.querySelector('`+row+` button.delete') !== null &&
		document.querySelector('`+row+` .confirm') === null`)
	require.Equal(t, 1, count(), "kept")

	b.Do(t, "delete for good", chromedp.Click(chromedp.CSS(row+` button.delete`)),
		chromedp.Click(chromedp.CSS(row+` button.confirm-delete`)))
	b.WaitFor(t, "the row gone from the list", `document.querySelector('`+row+`') === null &&
		document.getElementById("manage-note").textContent === "Deleted `+name+`."`)
	require.Zero(t, count(), "gone from the datastore")
	require.Equal(t, []string{"user:" + owner + " connection.delete " + name},
		e2e.Rows[string](t, c, `SELECT actor || ' ' || action || ' ' || COALESCE(details->>'name', '')
			FROM public.audit_log WHERE target = $1 AND action = 'connection.delete'`, "connection:"+strconv.FormatInt(id, 10)))
}
