package probes

// All is the catalogue, in the order of docs/probe-catalogue.md. It is an explicit list:
// adding a probe means adding its file and naming it here.
var All = concat(serverProbes, databaseProbes, systemStatsProbes)

func concat(lists ...[]Probe) []Probe {
	var out []Probe
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
