package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestComposeSplitDeployment checks compose/compose.yaml: a 3-node NATS
// cluster, the datastore, and every stage as its own service (two
// fetchers) on the same image, configured only with known settings.
func TestComposeSplitDeployment(t *testing.T) {
	docs := yamlDocs(t, filepath.Join("compose", "compose.yaml"))
	require.Len(t, docs, 1)
	services := at(docs[0], "services")
	_, natsVersion := goMod(t)
	var nodes []string
	for _, name := range keys(services) {
		if strings.HasPrefix(name, "nats-") {
			nodes = append(nodes, name)
		}
	}
	require.Equal(t, []string{"nats-1", "nats-2", "nats-3"}, nodes)
	for _, name := range nodes {
		svc := at(services, name)
		require.True(t, strings.HasPrefix(str(svc, "image"), "nats:"+natsVersion),
			"%s: image %s, go.mod has nats-server %s", name, str(svc, "image"), natsVersion)
		args := strings.Join(strs(list(svc, "command")), " ")
		require.Contains(t, args, "--jetstream", name)
		require.Contains(t, args, "--name "+name, name)
		for _, peer := range nodes {
			require.Contains(t, args, "nats://"+peer+":6222", "%s: route to %s", name, peer)
		}
	}
	require.True(t, strings.HasPrefix(str(services, "datastore", "image"), "postgres:"))

	secrets := keys(at(docs[0], "secrets"))
	seen := map[string]bool{}
	for _, name := range keys(services) {
		svc := at(services, name)
		if str(svc, "image") != pgcImage {
			continue
		}
		stage := stageOf(strs(list(svc, "command")))
		require.Contains(t, stages, stage, "%s: command must be run --stages <stage>", name)
		seen[stage] = true
		require.Equal(t, "deploy/Dockerfile", str(svc, "build", "dockerfile"), name)
		require.Equal(t, "SIGTERM", str(svc, "stop_signal"), name)
		env := at(svc, "environment")
		for _, k := range keys(env) {
			requireSetting(t, "compose service "+name, k)
		}
		require.Equal(t, "3", str(env, "PGC_STREAM_REPLICAS"), name)
		require.Equal(t, nodes, natsHosts(str(env, "PGC_NATS_URL")), "%s: PGC_NATS_URL", name)
		require.True(t, strings.HasPrefix(str(env, "PGC_SECRET_FILE"), "/run/secrets/"), name)
		for _, s := range strs(list(svc, "secrets")) {
			require.Contains(t, secrets, s, "%s: secret %s", name, s)
		}
		require.Contains(t, str(env, "PGC_DATASTORE_URL"), "@datastore:", name)
		if stage == "fetcher" {
			require.Equal(t, "2", str(svc, "deploy", "replicas"), "two fetchers")
		}
	}
	for _, s := range stages {
		require.True(t, seen[s], "no compose service runs stage %s", s)
	}
}

// TestDockerfile checks what can be checked without a Docker daemon: a
// multi-stage build on the Go version of go.mod, a distroless final stage
// running as a non-root user, the binary as the entrypoint, and only
// known settings in ENV.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile")
	require.NoError(t, err)
	text := string(b)
	goVersion, _ := goMod(t)
	require.Regexp(t, `(?m)^ARG GO_VERSION=`+regexp.QuoteMeta(goVersion)+`$`, text)
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(text, -1)
	require.Len(t, froms, 2, "a build stage and a runtime stage")
	require.Equal(t, "golang:${GO_VERSION}-bookworm", froms[0][1])
	require.True(t, strings.HasPrefix(froms[1][1], "gcr.io/distroless/static"), froms[1][1])
	require.Regexp(t, `(?m)^USER 65532:65532$`, text)
	require.Regexp(t, `(?m)^ENTRYPOINT \["/usr/local/bin/pgcollector"\]$`, text)
	require.Contains(t, text, "CGO_ENABLED=0")
	for _, m := range regexp.MustCompile(`(PGC_[A-Z0-9_]+)=`).FindAllStringSubmatch(text, -1) {
		requireSetting(t, "Dockerfile", m[1])
	}
	_, err = os.Stat("Dockerfile.dockerignore")
	require.NoError(t, err, "BuildKit's ignore file next to the Dockerfile")
}
