#!/bin/sh
# Checks of deploy/ that need tools beyond Go; `make test` runs it, and
# `go test ./deploy` does the structural checks that need none. A tool that
# is not installed is reported, not required:
#   - systemd-analyze (Debian package systemd): verify both units and keep
#     their exposure score under 2.0;
#   - kubectl: render both kustomizations (offline, no cluster needed);
#   - docker compose (the v2 plugin, not in Debian bookworm's packages):
#     docker compose config.
# kubeconform is not used: it downloads its schemas.
set -eu
cd "$(dirname "$0")"
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# systemd-analyze verify wants ExecStart's binary to exist, so the units
# are checked as copies that point at the built binary (make build's, or
# one built here); nothing else in them changes.
if command -v systemd-analyze >/dev/null 2>&1; then
	bin=${PGC_BIN:-../bin/pgcollector}
	if [ ! -x "$bin" ]; then
		bin="$work/pgcollector"
		(cd .. && go build -o "$bin" ./cmd/pgcollector)
	fi
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	sed "s#/usr/local/bin/pgcollector#$bin#" systemd/pgcollector.service >"$work/pgcollector.service"
	sed "s#/usr/local/bin/pgcollector#$bin#" systemd/pgcollector@.service >"$work/pgcollector@fetcher.service"
	for unit in pgcollector.service pgcollector@fetcher.service; do
		# verify exits 0 on unknown keys and bad values, printing them:
		# any output is a failure.
		out=$(systemd-analyze verify --man=no "$work/$unit" 2>&1) || failed=1
		if [ -n "$out" ]; then
			echo "$out"
			failed=1
		fi
		if ! systemd-analyze security --offline=yes --threshold=20 --no-pager "$work/$unit" >"$work/security.txt" 2>&1; then
			tail -n 3 "$work/security.txt"
			echo "systemd-analyze security: $unit exposure above 2.0"
			failed=1
		fi
	done
	echo "systemd-analyze verify + security: checked pgcollector.service, pgcollector@.service"
else
	echo "systemd-analyze: not installed (Debian package systemd); units checked by go test ./deploy only"
fi

if command -v kubectl >/dev/null 2>&1; then
	kubectl kustomize kubernetes >/dev/null || failed=1
	kubectl kustomize kubernetes/nats >/dev/null || failed=1
	echo "kubectl kustomize: rendered kubernetes/ and kubernetes/nats/"
else
	echo "kubectl: not installed; manifests checked by go test ./deploy only"
fi

if docker compose version >/dev/null 2>&1; then
	# config needs the secret file to exist; an empty stand-in will do.
	touch "$work/server.secret"
	cp compose/compose.yaml "$work/compose.yaml"
	sed -i "s#context: ../..#context: $(cd .. && pwd)#" "$work/compose.yaml"
	docker compose -f "$work/compose.yaml" config -q || failed=1
	echo "docker compose config: ok"
else
	echo "docker compose: not installed (the v2 plugin is not in Debian bookworm); compose file checked by go test ./deploy only"
fi

exit $failed
