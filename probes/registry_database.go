package probes

// databaseProbes run once per connectable, non-template database, in the
// order of docs/probe-catalogue.md.
var databaseProbes = []Probe{
	pgStatDatabase,
	pgStatDatabaseConflicts,
	pgStatAllTables,
	pgStatAllIndexes,
	pgStatioAllSequences,
	pgStatUserFunctions,
	pgStatStatements,
	pgExtension,
}

// systemStatsProbes read host statistics through the system_stats
// extension, in the order of docs/probe-catalogue.md.
var systemStatsProbes = []Probe{
	pgSysOSInfo,
	pgSysCPUInfo,
	pgSysCPUUsageInfo,
	pgSysMemoryInfo,
	pgSysIOAnalysisInfo,
	pgSysDiskInfo,
	pgSysLoadAvgInfo,
	pgSysProcessInfo,
	pgSysNetworkInfo,
	pgSysCPUMemoryByProcess,
}
