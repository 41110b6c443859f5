package mcpserver

import "github.com/pgcollector/pgcollector/internal/access"

// The tool inputs. Their field names are the REST API's and the CLI's
// (without "--"), so a validation error's field means the same everywhere.

type noInput struct{}

type idInput struct {
	ID int64 `json:"id" jsonschema:"the connection's id, from list_connections"`
}

// connectionFields are the settable fields of a connection; on update, an
// absent field is kept.
type connectionFields struct {
	Hostaddr      *string `json:"hostaddr,omitempty" jsonschema:"IP address to connect to instead of resolving host (host is still used for TLS verification)"`
	Port          *int    `json:"port,omitempty" jsonschema:"TCP port of the server, 1-65535 (default 5432)"`
	Database      *string `json:"database,omitempty" jsonschema:"database to connect to (default postgres); database-scoped probes also visit the others"`
	Password      *string `json:"password,omitempty" jsonschema:"password of the monitoring role; stored encrypted and never returned (has_password tells whether one is stored). On update an empty string removes it"`
	SSLMode       *string `json:"sslmode,omitempty" jsonschema:"libpq sslmode (default prefer)"`
	SSLCert       *string `json:"sslcert,omitempty" jsonschema:"path, on the collector's machines, of a client certificate (needs sslkey)"`
	SSLKey        *string `json:"sslkey,omitempty" jsonschema:"path, on the collector's machines, of the client certificate's key (needs sslcert)"`
	SSLRootCert   *string `json:"sslrootcert,omitempty" jsonschema:"path, on the collector's machines, of the CA certificate to verify the server with"`
	OwnerUsername *string `json:"owner_username,omitempty" jsonschema:"admins only: the user who owns the connection (default: the caller)"`
}

type addInput struct {
	Name     string `json:"name" jsonschema:"unique name of the connection, shown in every report (e.g. orders-primary)"`
	Host     string `json:"host" jsonschema:"host name or address of the PostgreSQL server"`
	Username string `json:"username" jsonschema:"role the collector logs in as (a monitoring role, e.g. member of pg_monitor)"`
	connectionFields
}

type updateInput struct {
	ID       int64   `json:"id" jsonschema:"the connection's id, from list_connections"`
	Name     *string `json:"name,omitempty" jsonschema:"new unique name"`
	Host     *string `json:"host,omitempty" jsonschema:"new host name or address"`
	Username *string `json:"username,omitempty" jsonschema:"new role to log in as"`
	connectionFields
}

func (f connectionFields) input(name, host, username *string) access.ConnectionInput {
	return access.ConnectionInput{Name: name, Host: host, Hostaddr: f.Hostaddr, Port: f.Port, Database: f.Database,
		Username: username, Password: f.Password, SSLMode: f.SSLMode, SSLCert: f.SSLCert, SSLKey: f.SSLKey,
		SSLRootCert: f.SSLRootCert, OwnerUsername: f.OwnerUsername}
}

type readMetricsInput struct {
	ConnectionID int64  `json:"connection_id" jsonschema:"the connection's id, from list_connections"`
	Probe        string `json:"probe" jsonschema:"probe name, from list_probes (e.g. pg_stat_database)"`
	Limit        *int   `json:"limit,omitempty" jsonschema:"how many of the newest rows to return, newest first (default 50, at most 500)"`
}
