package probes

// pgDatabase is one row per database of the cluster with its wraparound
// ages and on-disk size. daticulocale (15, 16) is stored as datlocale, its
// PostgreSQL 17 name; datlastsysoid (14 only) is not stored. The size of a
// database left invalid by an interrupted DROP DATABASE (datconnlimit -2)
// is NULL: its files may be half gone.
var pgDatabase = Probe{
	Name:            "pg_database",
	Scope:           ScopeServer,
	Description:     "Databases with transaction ID and multixact ages and size (pg_database).",
	IntervalSeconds: 300,
	RetentionDays:   7,
	Columns:         vcolumns(pgDatabaseCols),
	Queries:         vqueries(pgDatabaseCols, Versioned{MinVersion: 140000, SQL: "FROM pg_catalog.pg_database d"}),
}

var pgDatabaseCols = []vcol{
	{Name: "oid", Type: "bigint", Expr: "d.oid"},
	{Name: "datname", Type: "text"},
	{Name: "datdba", Type: "bigint"},
	{Name: "encoding", Type: "integer"},
	{Name: "datlocprovider", Type: "text", Since: 150000},
	{Name: "datistemplate", Type: "boolean"},
	{Name: "datallowconn", Type: "boolean"},
	{Name: "dathasloginevt", Type: "boolean", Since: 170000},
	{Name: "datconnlimit", Type: "integer"},
	{Name: "datfrozenxid", Type: "bigint", Expr: "datfrozenxid::text"},
	{Name: "datminmxid", Type: "bigint", Expr: "datminmxid::text"},
	{Name: "dattablespace", Type: "bigint"},
	{Name: "datcollate", Type: "text"},
	{Name: "datctype", Type: "text"},
	{Name: "datlocale", Type: "text", Expr: "daticulocale", Since: 150000, Until: 170000},
	{Name: "datlocale", Type: "text", Since: 170000},
	{Name: "daticurules", Type: "text", Since: 160000},
	{Name: "datcollversion", Type: "text", Since: 150000},
	{Name: "datacl", Type: "text[]"},
	{Name: "datfrozenxid_age", Type: "integer", Expr: "pg_catalog.age(datfrozenxid)"},
	{Name: "datminmxid_age", Type: "integer", Expr: "pg_catalog.mxid_age(datminmxid)"},
	{Name: "size_bytes", Type: "bigint",
		Expr: "CASE WHEN datconnlimit <> -2 THEN pg_catalog.pg_database_size(d.oid) END"},
}
