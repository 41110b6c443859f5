package probes

import "strings"

// The ten host statistics probes read the set-returning functions of
// EnterpriseDB's system_stats extension. The stored columns are the
// functions' result columns as of system_stats 4.0 (int → integer, int8 →
// bigint, float4 → double precision).
//
// Releases before 4.0 return fewer columns from pg_sys_cpu_memory_by_process
// (4.0 added virtual_memory_bytes, swap_usage_bytes, io_read_bytes and
// io_write_bytes), so each query reads the function's rows through to_jsonb
// and takes every column by name: a column the installed release lacks is
// stored as NULL instead of failing the query. The functions return at most
// one row per process, every 600 s, so the conversion costs little.
//
// The extension is installed per database, while these probes are
// server-scoped and run in the connection's maintenance database; the Check
// looks there, so a newly installed extension is picked up at the next run.
// Besides "extension system_stats not installed" it names the two other
// reasons the query would fail: the function is not on the search_path (the
// extension was created in another schema), or the collector's role lacks
// EXECUTE, which the extension grants only to monitor_system_stats.

var pgSysOSInfo = sysStatsProbe("pg_sys_os_info",
	"Operating system name, version, host name, process/thread counts and uptime (system_stats).",
	"name text", "version text", "host_name text", "domain_name text",
	"handle_count integer", "process_count integer", "thread_count integer",
	"architecture text", "last_bootup_time text", "os_up_since_seconds integer")

var pgSysCPUInfo = sysStatsProbe("pg_sys_cpu_info",
	"CPU vendor, model, processor and core counts, clock speed and cache sizes (system_stats).",
	"vendor text", "description text", "model_name text", "processor_type integer",
	"logical_processor integer", "physical_processor integer", "no_of_cores integer",
	"architecture text", "clock_speed_hz bigint", "cpu_type text", "cpu_family text",
	"byte_order text", "l1dcache_size integer", "l1icache_size integer",
	"l2cache_size integer", "l3cache_size integer")

var pgSysCPUUsageInfo = sysStatsProbe("pg_sys_cpu_usage_info",
	"Percentage of CPU time spent in each mode (system_stats).",
	"usermode_normal_process_percent double precision", "usermode_niced_process_percent double precision",
	"kernelmode_process_percent double precision", "idle_mode_percent double precision",
	"io_completion_percent double precision", "servicing_irq_percent double precision",
	"servicing_softirq_percent double precision", "user_time_percent double precision",
	"processor_time_percent double precision", "privileged_time_percent double precision",
	"interrupt_time_percent double precision")

var pgSysMemoryInfo = sysStatsProbe("pg_sys_memory_info",
	"Memory, swap, cache and kernel memory in bytes (system_stats).",
	"total_memory bigint", "used_memory bigint", "free_memory bigint",
	"swap_total bigint", "swap_used bigint", "swap_free bigint", "cache_total bigint",
	"kernel_total bigint", "kernel_paged bigint", "kernel_non_paged bigint",
	"total_page_file bigint", "avail_page_file bigint")

var pgSysIOAnalysisInfo = sysStatsProbe("pg_sys_io_analysis_info",
	"Reads, writes, bytes and time per block device (system_stats).",
	"device_name text", "total_reads bigint", "total_writes bigint", "read_bytes bigint",
	"write_bytes bigint", "read_time_ms bigint", "write_time_ms bigint")

var pgSysDiskInfo = sysStatsProbe("pg_sys_disk_info",
	"Space and inodes per mounted file system (system_stats).",
	"mount_point text", "file_system text", "drive_letter text", "drive_type integer",
	"file_system_type text", "total_space bigint", "used_space bigint", "free_space bigint",
	"total_inodes bigint", "used_inodes bigint", "free_inodes bigint")

var pgSysLoadAvgInfo = sysStatsProbe("pg_sys_load_avg_info",
	"System load averages over 1, 5, 10 and 15 minutes (system_stats).",
	"load_avg_one_minute double precision", "load_avg_five_minutes double precision",
	"load_avg_ten_minutes double precision", "load_avg_fifteen_minutes double precision")

var pgSysProcessInfo = sysStatsProbe("pg_sys_process_info",
	"Numbers of total, running, sleeping, stopped and zombie processes (system_stats).",
	"total_processes integer", "running_processes integer", "sleeping_processes integer",
	"stopped_processes integer", "zombie_processes integer")

var pgSysNetworkInfo = sysStatsProbe("pg_sys_network_info",
	"Bytes, packets, errors and drops per network interface (system_stats).",
	"interface_name text", "ip_address text", "tx_bytes bigint", "tx_packets bigint",
	"tx_errors bigint", "tx_dropped bigint", "rx_bytes bigint", "rx_packets bigint",
	"rx_errors bigint", "rx_dropped bigint", "link_speed_mbps integer")

var pgSysCPUMemoryByProcess = sysStatsProbe("pg_sys_cpu_memory_by_process",
	"CPU, memory and I/O usage per process (system_stats).",
	"pid integer", "name text", "running_since_seconds bigint", "cpu_usage double precision",
	"memory_usage double precision", "memory_bytes bigint", "virtual_memory_bytes bigint",
	"swap_usage_bytes bigint", "io_read_bytes bigint", "io_write_bytes bigint")

// sysStatsProbe builds the probe reading system_stats function fn; each
// column is "name type".
func sysStatsProbe(fn, description string, columns ...string) Probe {
	cols := make([]vcol, len(columns))
	for i, c := range columns {
		name, typ, _ := strings.Cut(c, " ")
		cols[i] = vcol{Name: name, Type: typ, Expr: "j->>'" + name + "'"}
	}
	return Probe{
		Name:            fn,
		Scope:           ScopeServer,
		Description:     description,
		IntervalSeconds: 600,
		RetentionDays:   7,
		Columns:         vcolumns(cols),
		Queries:         vqueries(cols, Versioned{MinVersion: 140000, SQL: "FROM " + fn + "() f, to_jsonb(f) j"}),
		Check: `SELECT CASE
  WHEN NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'system_stats')
    THEN 'extension system_stats not installed'
  WHEN to_regprocedure('` + fn + `()') IS NULL
    THEN 'function ` + fn + `() is not on the search_path'
  WHEN NOT has_function_privilege(to_regprocedure('` + fn + `()'), 'EXECUTE')
    THEN 'permission denied for function ` + fn + `(): grant monitor_system_stats to the collector role'
END`,
	}
}
