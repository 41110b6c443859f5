// Package access is who may do what over the API: users, API tokens (only
// their SHA-256 is stored), the audit log, and the connection and probe
// operations a user may perform, validated and authorised in one place.
// The CLI and the REST layer (internal/api) both call it; neither writes
// its own SQL for users, tokens or audit rows. Connection rows themselves
// are read and written through internal/catalog.
//
// Isolation: a user sees only the connections whose owner_username is
// their name; an admin sees all. Another user's connection is reported as
// not found, never as forbidden, so its existence does not leak.
package access
