package probes

// serverProbes run once per monitored server, in the order of docs/probe-catalogue.md.
var serverProbes = []Probe{
	pgStatActivity,
	pgStatReplication,
	pgReplicationSlots,
	pgStatRecoveryPrefetch,
	pgStatSubscription,
	pgStatConnectionSecurity,
	pgStatIO,
	pgStatCheckpointer,
	pgStatWAL,
	pgDatabase,
	pgSettings,
	pgHBAFileRules,
	pgIdentFileMappings,
	pgServerInfo,
	pgNodeRole,
	pgConnectivity,
}
