/* Test stand-in for EnterpriseDB's system_stats extension.
 *
 * Same function names, result columns and types as system_stats 4.0, and
 * the same privilege model (EXECUTE for monitor_system_stats only). The
 * functions are SECURITY DEFINER so that they read /proc with the rights of
 * the superuser who created the extension; values come from /proc where
 * that is easy and are NULL where the real extension would need a system
 * call (disk space, link speed) or reports a Windows-only value. The
 * numbers are plausible, not exact: CPU percentages are since boot, clock
 * ticks are taken as 100 per second and pages as 4096 bytes.
 */

\echo Use "CREATE EXTENSION system_stats" to load this file. \quit

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'monitor_system_stats') THEN
        CREATE ROLE monitor_system_stats NOLOGIN;
    END IF;
END
$$;

-- The value of "key : value" line key in doc, as /proc/cpuinfo and
-- /proc/meminfo write them.
CREATE FUNCTION system_stats_field(doc text, key text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
AS $$ SELECT btrim(substring(doc FROM '(?n)^' || key || '[ \t]*:[ \t]*(.*)$')) $$;

-- A /proc/meminfo value, converted from kB to bytes.
CREATE FUNCTION system_stats_meminfo(key text) RETURNS int8
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT split_part(@extschema@.system_stats_field(pg_read_file('/proc/meminfo'), key), ' ', 1)::int8 * 1024
$$;

-- One row per process: pid, name, state and the fields of /proc/<pid>/stat
-- after the name (so field N of proc(5) is fields[N - 2]). A process that
-- ends while being read is skipped.
CREATE FUNCTION system_stats_processes(OUT pid int, OUT name text, OUT state text, OUT fields text[])
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT d::int, m[2], m[3], string_to_array(m[3] || ' ' || m[4], ' ')
    FROM pg_ls_dir('/proc') AS d,
         LATERAL pg_read_file('/proc/' || d || '/stat', 0, 4096, true) AS stat,
         LATERAL regexp_match(stat, '^(\d+) \((.*)\) (\S) (.*)$') AS m
    WHERE d ~ '^\d+$' AND m IS NOT NULL
$$;

CREATE FUNCTION system_stats_uptime() RETURNS float8
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$ SELECT split_part(pg_read_file('/proc/uptime'), ' ', 1)::float8 $$;

CREATE FUNCTION pg_sys_os_info(
    OUT name text,
    OUT version text,
    OUT host_name text,
    OUT domain_name text,
    OUT handle_count int,
    OUT process_count int,
    OUT thread_count int,
    OUT architecture text,
    OUT last_bootup_time text,
    OUT os_up_since_seconds int
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT
        btrim(pg_read_file('/proc/sys/kernel/ostype'), E'\n'),
        btrim(pg_read_file('/proc/sys/kernel/osrelease'), E'\n'),
        btrim(pg_read_file('/proc/sys/kernel/hostname'), E'\n'),
        btrim(pg_read_file('/proc/sys/kernel/domainname'), E'\n'),
        split_part(pg_read_file('/proc/sys/fs/file-nr'), E'\t', 1)::int,
        (SELECT count(*) FROM @extschema@.system_stats_processes())::int,
        split_part(split_part(pg_read_file('/proc/loadavg'), ' ', 4), '/', 2)::int,
        split_part(substring(version() FROM ' on ([^ ,]+)'), '-', 1),
        to_char(now() - make_interval(secs => @extschema@.system_stats_uptime()), 'YYYY-MM-DD HH24:MI:SS'),
        @extschema@.system_stats_uptime()::int
$$;

CREATE FUNCTION pg_sys_cpu_info(
    OUT vendor text,
    OUT description text,
    OUT model_name text,
    OUT processor_type int,
    OUT logical_processor int,
    OUT physical_processor int,
    OUT no_of_cores int,
    OUT architecture text,
    OUT clock_speed_hz int8,
    OUT cpu_type text,
    OUT cpu_family text,
    OUT byte_order text,
    OUT l1dcache_size int,
    OUT l1icache_size int,
    OUT l2cache_size int,
    OUT l3cache_size int
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT
        @extschema@.system_stats_field(c, 'vendor_id'),
        @extschema@.system_stats_field(c, 'model name'),
        @extschema@.system_stats_field(c, 'model name'),
        NULL::int,
        (SELECT count(*) FROM regexp_matches(c, '(?n)^processor\s*:', 'g'))::int,
        greatest((SELECT count(DISTINCT m[1]) FROM regexp_matches(c, '(?n)^physical id\s*:\s*(\d+)', 'g') AS m), 1)::int,
        @extschema@.system_stats_field(c, 'cpu cores')::int,
        split_part(substring(version() FROM ' on ([^ ,]+)'), '-', 1),
        (@extschema@.system_stats_field(c, 'cpu MHz')::numeric * 1000000)::int8,
        NULL::text,
        @extschema@.system_stats_field(c, 'cpu family'),
        'Little Endian',
        NULL::int,
        NULL::int,
        split_part(@extschema@.system_stats_field(c, 'cache size'), ' ', 1)::int,
        NULL::int
    FROM pg_read_file('/proc/cpuinfo') AS c
$$;

CREATE FUNCTION pg_sys_cpu_usage_info(
    OUT usermode_normal_process_percent float4,
    OUT usermode_niced_process_percent float4,
    OUT kernelmode_process_percent float4,
    OUT idle_mode_percent float4,
    OUT IO_completion_percent float4,
    OUT servicing_irq_percent float4,
    OUT servicing_softirq_percent float4,
    OUT user_time_percent float4,
    OUT processor_time_percent float4,
    OUT privileged_time_percent float4,
    OUT interrupt_time_percent float4
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT
        round(100.0 * t[1] / total, 2)::float4,
        round(100.0 * t[2] / total, 2)::float4,
        round(100.0 * t[3] / total, 2)::float4,
        round(100.0 * t[4] / total, 2)::float4,
        round(100.0 * t[5] / total, 2)::float4,
        round(100.0 * t[6] / total, 2)::float4,
        round(100.0 * t[7] / total, 2)::float4,
        NULL::float4, NULL::float4, NULL::float4, NULL::float4
    -- The first line of /proc/stat: "cpu user nice system idle iowait irq softirq …" in clock ticks.
    FROM (SELECT regexp_split_to_array(
              substring(pg_read_file('/proc/stat') FROM '(?n)^cpu +(.*)$'), ' +')::numeric[] AS t) AS a,
         LATERAL (SELECT greatest(t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7], 1) AS total) AS s
$$;

CREATE FUNCTION pg_sys_memory_info(
    OUT total_memory int8,
    OUT used_memory int8,
    OUT free_memory int8,
    OUT swap_total int8,
    OUT swap_used int8,
    OUT swap_free int8,
    OUT cache_total int8,
    OUT kernel_total int8,
    OUT kernel_paged int8,
    OUT kernel_non_paged int8,
    OUT total_page_file int8,
    OUT avail_page_file int8
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT
        @extschema@.system_stats_meminfo('MemTotal'),
        @extschema@.system_stats_meminfo('MemTotal') - @extschema@.system_stats_meminfo('MemAvailable'),
        @extschema@.system_stats_meminfo('MemFree'),
        @extschema@.system_stats_meminfo('SwapTotal'),
        @extschema@.system_stats_meminfo('SwapTotal') - @extschema@.system_stats_meminfo('SwapFree'),
        @extschema@.system_stats_meminfo('SwapFree'),
        @extschema@.system_stats_meminfo('Cached'),
        NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::int8
$$;

CREATE FUNCTION pg_sys_io_analysis_info(
    OUT device_name text,
    OUT total_reads int8,
    OUT total_writes int8,
    OUT read_bytes int8,
    OUT write_bytes int8,
    OUT read_time_ms int8,
    OUT write_time_ms int8
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    -- /proc/diskstats: major minor name reads merged sectors ms writes merged sectors ms ...
    SELECT f[3], f[4]::int8, f[8]::int8, f[6]::int8 * 512, f[10]::int8 * 512, f[7]::int8, f[11]::int8
    FROM regexp_split_to_table(btrim(pg_read_file('/proc/diskstats'), E'\n'), E'\n') AS line,
         LATERAL regexp_split_to_array(btrim(line), ' +') AS f
$$;

CREATE FUNCTION pg_sys_disk_info(
    OUT mount_point text,
    OUT file_system text,
    OUT drive_letter text,
    OUT drive_type int,
    OUT file_system_type text,
    OUT total_space int8,
    OUT used_space int8,
    OUT free_space int8,
    OUT total_inodes int8,
    OUT used_inodes int8,
    OUT free_inodes int8
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    -- Space and inode counts need statvfs(2), which SQL cannot call.
    SELECT DISTINCT ON (f[2]) f[2], f[1], NULL::text, NULL::int, f[3],
        NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::int8, NULL::int8
    FROM regexp_split_to_table(btrim(pg_read_file('/proc/mounts'), E'\n'), E'\n') AS line,
         LATERAL string_to_array(line, ' ') AS f
    WHERE f[3] NOT IN ('proc', 'sysfs', 'devpts', 'cgroup', 'cgroup2', 'mqueue', 'securityfs',
                       'debugfs', 'tracefs', 'pstore', 'bpf', 'autofs', 'hugetlbfs', 'configfs',
                       'fusectl', 'binfmt_misc', 'nsfs')
    ORDER BY f[2]
$$;

CREATE FUNCTION pg_sys_load_avg_info(
    OUT load_avg_one_minute float4,
    OUT load_avg_five_minutes float4,
    OUT load_avg_ten_minutes float4,
    OUT load_avg_fifteen_minutes float4
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    -- Linux keeps no 10-minute average; the real extension returns NULL too.
    SELECT f[1]::float4, f[2]::float4, NULL::float4, f[3]::float4
    FROM string_to_array(pg_read_file('/proc/loadavg'), ' ') AS f
$$;

CREATE FUNCTION pg_sys_process_info(
    OUT total_processes int,
    OUT running_processes int,
    OUT sleeping_processes int,
    OUT stopped_processes int,
    OUT zombie_processes int
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    SELECT
        count(*)::int,
        count(*) FILTER (WHERE state = 'R')::int,
        count(*) FILTER (WHERE state IN ('S', 'D', 'I'))::int,
        count(*) FILTER (WHERE state IN ('T', 't'))::int,
        count(*) FILTER (WHERE state = 'Z')::int
    FROM @extschema@.system_stats_processes()
$$;

CREATE FUNCTION pg_sys_network_info(
    OUT interface_name text,
    OUT ip_address text,
    OUT tx_bytes int8,
    OUT tx_packets int8,
    OUT tx_errors int8,
    OUT tx_dropped int8,
    OUT rx_bytes int8,
    OUT rx_packets int8,
    OUT rx_errors int8,
    OUT rx_dropped int8,
    OUT link_speed_mbps int
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    -- /proc/net/dev: "name: rx_bytes rx_packets rx_errs rx_drop 4×… tx_bytes tx_packets tx_errs tx_drop …"
    SELECT m[1], CASE WHEN m[1] = 'lo' THEN '127.0.0.1' END,
        f[9]::int8, f[10]::int8, f[11]::int8, f[12]::int8,
        f[1]::int8, f[2]::int8, f[3]::int8, f[4]::int8,
        NULL::int
    FROM regexp_split_to_table(pg_read_file('/proc/net/dev'), E'\n') AS line,
         LATERAL regexp_match(line, '^\s*([^:\s]+):\s*(.*)$') AS m,
         LATERAL regexp_split_to_array(btrim(m[2]), ' +') AS f
    WHERE m IS NOT NULL
$$;

CREATE FUNCTION pg_sys_cpu_memory_by_process(
    OUT pid int,
    OUT name text,
    OUT running_since_seconds int8,
    OUT cpu_usage float4,
    OUT memory_usage float4,
    OUT memory_bytes int8,
    OUT virtual_memory_bytes int8,
    OUT swap_usage_bytes int8,
    OUT io_read_bytes int8,
    OUT io_write_bytes int8
)
RETURNS SETOF record
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$
    -- fields[12..13] utime, stime and fields[20] starttime in clock ticks;
    -- fields[21] vsize in bytes; fields[22] rss in pages. Swap and I/O need
    -- /proc/<pid>/status and /proc/<pid>/io, the latter readable only by
    -- the process owner, so they are left NULL.
    SELECT p.pid, p.name, running::int8,
        round((100 * (p.fields[12]::numeric + p.fields[13]::numeric) / 100 / greatest(running, 1))::numeric, 2)::float4,
        round((100 * p.fields[22]::numeric * 4096 / mem)::numeric, 2)::float4,
        p.fields[22]::int8 * 4096,
        p.fields[21]::int8,
        NULL::int8, NULL::int8, NULL::int8
    FROM @extschema@.system_stats_processes() AS p,
         LATERAL (SELECT greatest(@extschema@.system_stats_uptime() - p.fields[20]::float8 / 100, 0) AS running) AS r,
         LATERAL (SELECT @extschema@.system_stats_meminfo('MemTotal') AS mem) AS t
$$;

-- As in the real extension, only superusers and members of
-- monitor_system_stats may call the functions; the helpers are for the
-- functions alone.
REVOKE ALL ON FUNCTION system_stats_meminfo(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION system_stats_processes() FROM PUBLIC;
REVOKE ALL ON FUNCTION system_stats_uptime() FROM PUBLIC;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY['pg_sys_os_info', 'pg_sys_cpu_info', 'pg_sys_cpu_usage_info',
        'pg_sys_memory_info', 'pg_sys_io_analysis_info', 'pg_sys_disk_info', 'pg_sys_load_avg_info',
        'pg_sys_process_info', 'pg_sys_network_info', 'pg_sys_cpu_memory_by_process']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %I() FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %I() TO monitor_system_stats', f);
    END LOOP;
END
$$;
