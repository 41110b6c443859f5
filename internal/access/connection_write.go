package access

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/pgcollector/pgcollector/internal/catalog"
)

// ConnectionInput is a connection as a client sends it. On create, nil
// fields take their defaults; on update, nil fields are kept. Password is
// encrypted before it is stored and is never returned or audited; an
// empty password on update removes the stored one.
type ConnectionInput struct {
	Name          *string `json:"name,omitempty"`
	Host          *string `json:"host,omitempty"`
	Hostaddr      *string `json:"hostaddr,omitempty"`
	Port          *int    `json:"port,omitempty"`
	Database      *string `json:"database,omitempty"`
	Username      *string `json:"username,omitempty"`
	Password      *string `json:"password,omitempty"`
	SSLMode       *string `json:"sslmode,omitempty"`
	SSLCert       *string `json:"sslcert,omitempty"`
	SSLKey        *string `json:"sslkey,omitempty"`
	SSLRootCert   *string `json:"sslrootcert,omitempty"`
	OwnerUsername *string `json:"owner_username,omitempty"`
}

// update turns the input into a catalog update, encrypting the password,
// and lists the names of the fields given (for the audit log).
func (s *Service) update(p Principal, in ConnectionInput) (catalog.ConnectionUpdate, []string, error) {
	u := catalog.ConnectionUpdate{Name: in.Name, Host: in.Host, Hostaddr: in.Hostaddr, Port: in.Port,
		Database: in.Database, Username: in.Username, SSLMode: in.SSLMode, SSLCert: in.SSLCert, SSLKey: in.SSLKey,
		SSLRootCert: in.SSLRootCert}
	var fields []string
	for name, set := range map[string]bool{"name": in.Name != nil, "host": in.Host != nil, "hostaddr": in.Hostaddr != nil,
		"port": in.Port != nil, "database": in.Database != nil, "username": in.Username != nil,
		"password": in.Password != nil, "sslmode": in.SSLMode != nil, "sslcert": in.SSLCert != nil,
		"sslkey": in.SSLKey != nil, "sslrootcert": in.SSLRootCert != nil, "owner_username": in.OwnerUsername != nil} {
		if set {
			fields = append(fields, name)
		}
	}
	sort.Strings(fields)
	if in.OwnerUsername != nil {
		if !p.IsAdmin {
			return u, nil, invalid("owner_username", "only an admin may set the owner")
		}
		if !usernameRe.MatchString(*in.OwnerUsername) {
			return u, nil, invalid("owner_username", "is not a valid user name")
		}
		u.Owner = &catalog.Owner{Username: *in.OwnerUsername}
	}
	if in.Password != nil {
		enc := ""
		if *in.Password != "" {
			var err error
			if enc, err = s.box.Encrypt(*in.Password); err != nil {
				return u, nil, fmt.Errorf("encrypt password: %w", err)
			}
		}
		u.PasswordEncrypted = &enc
	}
	return u, fields, nil
}

// CreateConnection stores a new connection owned by p (an admin may name
// another owner) and returns it.
func (s *Service) CreateConnection(ctx context.Context, p Principal, in ConnectionInput) (ConnectionView, error) {
	u, fields, err := s.update(p, in)
	if err != nil {
		return ConnectionView{}, err
	}
	c := merge(catalog.Connection{Port: 5432, Database: "postgres", SSLMode: "prefer", OwnerUsername: p.Username}, u)
	if err := validateConnection(c); err != nil {
		return ConnectionView{}, err
	}
	var id int64
	err = inTx(ctx, s.db, func(tx pgx.Tx) error {
		if id, err = catalog.AddConnection(ctx, tx, c); err != nil {
			return storeErr(err)
		}
		return audit(ctx, tx, p.Actor(), "connection.create", target(id),
			map[string]any{"name": c.Name, "owner_username": c.OwnerUsername, "fields": fields})
	})
	if err != nil {
		return ConnectionView{}, err
	}
	return s.GetConnection(ctx, p, id)
}

// UpdateConnection changes the given fields of connection id.
func (s *Service) UpdateConnection(ctx context.Context, p Principal, id int64, in ConnectionInput) (ConnectionView, error) {
	u, fields, err := s.update(p, in)
	if err != nil {
		return ConnectionView{}, err
	}
	if u.Empty() {
		return ConnectionView{}, invalid("body", "nothing to change")
	}
	return s.change(ctx, p, id, "connection.update", u, map[string]any{"fields": fields})
}

// change applies u to connection id after checking visibility and the
// resulting row, with its audit row, in one transaction.
func (s *Service) change(ctx context.Context, p Principal, id int64, action string, u catalog.ConnectionUpdate,
	details map[string]any) (ConnectionView, error) {
	err := inTx(ctx, s.db, func(tx pgx.Tx) error {
		cur, err := s.find(ctx, tx, p, id)
		if err != nil {
			return err
		}
		if err := validateConnection(merge(cur, u)); err != nil {
			return err
		}
		if err := catalog.UpdateConnection(ctx, tx, id, u); err != nil {
			return storeErr(err)
		}
		return audit(ctx, tx, p.Actor(), action, target(id), details)
	})
	if err != nil {
		return ConnectionView{}, err
	}
	return s.GetConnection(ctx, p, id)
}

func storeErr(err error) error {
	if errors.Is(err, catalog.ErrNameTaken) {
		return &ValidationError{Field: "name", Msg: "a connection with this name already exists"}
	}
	return err
}

// merge is the row as it will be after u, for validation.
func merge(c catalog.Connection, u catalog.ConnectionUpdate) catalog.Connection {
	c.Name, c.Host, c.Hostaddr = deref(u.Name, c.Name), deref(u.Host, c.Host), deref(u.Hostaddr, c.Hostaddr)
	c.Database, c.Username = deref(u.Database, c.Database), deref(u.Username, c.Username)
	c.SSLMode, c.SSLRootCert = deref(u.SSLMode, c.SSLMode), deref(u.SSLRootCert, c.SSLRootCert)
	c.SSLCert, c.SSLKey = deref(u.SSLCert, c.SSLCert), deref(u.SSLKey, c.SSLKey)
	c.Port = deref(u.Port, c.Port)
	c.PasswordEncrypted = deref(u.PasswordEncrypted, c.PasswordEncrypted)
	if u.Owner != nil {
		c.OwnerUsername, c.OwnerToken = u.Owner.Username, u.Owner.Token
	}
	return c
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
