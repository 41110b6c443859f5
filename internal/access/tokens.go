package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners) and a mistyped header is told apart from a token.
const TokenPrefix = "pgc_"

// Token is one row of public.api_tokens, without its hash.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Owner      string     `json:"owner"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Principal is the authenticated caller of an API request.
type Principal struct {
	Username string
	IsAdmin  bool
	TokenID  int64
}

// Actor is how the principal appears in the audit log.
func (p Principal) Actor() string { return "user:" + p.Username }

func hashToken(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// CreateToken makes a token for owner and returns it in clear; this is
// the only time it exists outside the caller. ttl 0 never expires.
func CreateToken(ctx context.Context, db DB, actor, owner, name string, ttl time.Duration) (string, Token, error) {
	if strings.TrimSpace(name) == "" {
		return "", Token{}, invalid("name", "is required")
	}
	if ttl < 0 {
		return "", Token{}, invalid("expires", "must not be negative")
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	var expires *time.Time
	if ttl > 0 {
		e := time.Now().Add(ttl)
		expires = &e
	}
	t := Token{Name: name, Owner: owner, ExpiresAt: expires}
	err := inTx(ctx, db, func(tx pgx.Tx) error {
		var known bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM public.users WHERE username = $1)`, owner).Scan(&known); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		if !known {
			return invalid("user", "no user named %q", owner)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO public.api_tokens (name, owner, token_sha256, expires_at)
			VALUES ($1, $2, $3, $4) RETURNING id, created_at`, name, owner, hashToken(plain), expires).
			Scan(&t.ID, &t.CreatedAt); err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return audit(ctx, tx, actor, "token.create", "token:"+strconv.FormatInt(t.ID, 10),
			map[string]any{"owner": owner, "name": name})
	})
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// ListTokens returns the tokens of owner, or every token if owner is "".
func ListTokens(ctx context.Context, q catalog.Querier, owner string) ([]Token, error) {
	rows, err := q.Query(ctx, `SELECT id, name, owner, created_at, last_used_at, expires_at, revoked_at
		FROM public.api_tokens WHERE $1 = '' OR owner = $1 ORDER BY id`, owner)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Token])
}

// RevokeToken revokes token id; it stops working at once.
func RevokeToken(ctx context.Context, db DB, actor string, id int64) error {
	return inTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE public.api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("token %d (or it is already revoked): %w", id, ErrNotFound)
		}
		return audit(ctx, tx, actor, "token.revoke", "token:"+strconv.FormatInt(id, 10), nil)
	})
}

// Authenticate returns the principal of a token in clear. Unknown,
// revoked and expired tokens and disabled users are all
// ErrUnauthenticated. last_used_at is updated on success.
func Authenticate(ctx context.Context, q catalog.Querier, plain string) (Principal, error) {
	if !strings.HasPrefix(plain, TokenPrefix) {
		return Principal{}, ErrUnauthenticated
	}
	var p Principal
	err := q.QueryRow(ctx, `UPDATE public.api_tokens t SET last_used_at = now()
		FROM public.users u
		WHERE t.token_sha256 = $1 AND u.username = t.owner AND NOT u.disabled
		  AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
		RETURNING t.id, u.username, u.is_admin`, hashToken(plain)).Scan(&p.TokenID, &p.Username, &p.IsAdmin)
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return p, nil
}
