package access

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// Service performs the connection and probe operations of one principal.
type Service struct {
	db  DB
	box *secret.Box
}

// NewService needs the datastore and the box that encrypts passwords.
func NewService(db DB, box *secret.Box) (*Service, error) {
	if db == nil || box == nil {
		return nil, errors.New("access: datastore and secret box are required")
	}
	return &Service{db: db, box: box}, nil
}

// DB is the service's datastore, for authentication.
func (s *Service) DB() DB { return s.db }

// ConnectionView is a connection as the API shows it: no password, no
// encrypted password, no owner token.
type ConnectionView struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	Host            string    `json:"host"`
	Hostaddr        string    `json:"hostaddr,omitempty"`
	Port            int       `json:"port"`
	Database        string    `json:"database"`
	Username        string    `json:"username"`
	HasPassword     bool      `json:"has_password"`
	SSLMode         string    `json:"sslmode"`
	SSLCert         string    `json:"sslcert,omitempty"`
	SSLKey          string    `json:"sslkey,omitempty"`
	SSLRootCert     string    `json:"sslrootcert,omitempty"`
	OwnerUsername   string    `json:"owner_username"`
	Monitored       bool      `json:"monitored"`
	ConnectionError string    `json:"connection_error,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

func view(c catalog.Connection) ConnectionView {
	return ConnectionView{ID: c.ID, Name: c.Name, Host: c.Host, Hostaddr: c.Hostaddr, Port: c.Port, Database: c.Database,
		Username: c.Username, HasPassword: c.PasswordEncrypted != "", SSLMode: c.SSLMode, SSLCert: c.SSLCert,
		SSLKey: c.SSLKey, SSLRootCert: c.SSLRootCert, OwnerUsername: c.OwnerUsername, Monitored: c.IsMonitored,
		ConnectionError: c.ConnectionError, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// visible reports whether p may see c: its owner, or an admin.
func visible(p Principal, c catalog.Connection) bool {
	return p.IsAdmin || (c.OwnerUsername != "" && c.OwnerUsername == p.Username)
}

// ListConnections returns the connections p may see.
func (s *Service) ListConnections(ctx context.Context, p Principal) ([]ConnectionView, error) {
	f := catalog.Filter{OwnerUsername: p.Username}
	if p.IsAdmin {
		f = catalog.Filter{}
	}
	cs, err := catalog.ListConnections(ctx, s.db, f)
	if err != nil {
		return nil, err
	}
	out := make([]ConnectionView, 0, len(cs))
	for _, c := range cs {
		out = append(out, view(c))
	}
	return out, nil
}

// find returns connection id if p may see it, else ErrNotFound: another
// user's connection is indistinguishable from a missing one.
func (s *Service) find(ctx context.Context, q catalog.Querier, p Principal, id int64) (catalog.Connection, error) {
	if id < 1 || id > math.MaxInt32 {
		// Ids are integer columns: a larger one cannot exist, and sent
		// as a parameter it would fail to encode rather than not match.
		return catalog.Connection{}, fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	c, err := catalog.FindConnection(ctx, q, strconv.FormatInt(id, 10))
	if errors.Is(err, catalog.ErrNotFound) || (err == nil && (c.ID != id || !visible(p, c))) {
		return catalog.Connection{}, fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	return c, err
}

// GetConnection returns connection id if p may see it.
func (s *Service) GetConnection(ctx context.Context, p Principal, id int64) (ConnectionView, error) {
	c, err := s.find(ctx, s.db, p, id)
	return view(c), err
}

// DeleteConnection removes connection id if p may see it.
func (s *Service) DeleteConnection(ctx context.Context, p Principal, id int64) error {
	return inTx(ctx, s.db, func(tx pgx.Tx) error {
		c, err := s.find(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := catalog.RemoveConnection(ctx, tx, id); err != nil {
			return err
		}
		return audit(ctx, tx, p.Actor(), "connection.delete", target(id), map[string]any{"name": c.Name})
	})
}

// SetMonitored enables or disables collection from connection id.
func (s *Service) SetMonitored(ctx context.Context, p Principal, id int64, on bool) (ConnectionView, error) {
	action := map[bool]string{true: "connection.enable", false: "connection.disable"}[on]
	return s.change(ctx, p, id, action, catalog.ConnectionUpdate{Monitored: &on}, nil)
}

func target(id int64) string { return "connection:" + strconv.FormatInt(id, 10) }
