package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// apiVersions is the apiVersion each kind used here must have: a check
// that needs no schema download (kubeconform would fetch its schemas).
var apiVersions = map[string]string{
	"Namespace":           "v1",
	"ServiceAccount":      "v1",
	"ConfigMap":           "v1",
	"Secret":              "v1",
	"Service":             "v1",
	"Deployment":          "apps/v1",
	"StatefulSet":         "apps/v1",
	"PodDisruptionBudget": "policy/v1",
}

// kustomization reads dir/kustomization.yaml, every resource it lists and
// the *.example.yaml files beside it, requiring that it lists every other
// YAML file of dir.
func kustomization(t *testing.T, dir string) (kust map[string]any, objs []map[string]any) {
	t.Helper()
	docs := yamlDocs(t, filepath.Join(dir, "kustomization.yaml"))
	require.Len(t, docs, 1)
	kust = docs[0]
	require.Equal(t, "kustomize.config.k8s.io/v1beta1", str(kust, "apiVersion"))
	require.Equal(t, "Kustomization", str(kust, "kind"))
	require.Equal(t, "pgcollector", str(kust, "namespace"))
	listed := strs(list(kust, "resources"))
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	require.NoError(t, err)
	// Examples (the secrets' placeholders) are applied by hand, never by
	// kustomize, but what the manifests reference must be in them.
	var examples []string
	for _, f := range files {
		switch name := filepath.Base(f); {
		case name == "kustomization.yaml":
		case strings.HasSuffix(name, ".example.yaml"):
			require.NotContains(t, listed, name, "%s/kustomization.yaml must not apply an example", dir)
			examples = append(examples, name)
		default:
			require.Contains(t, listed, name, "%s is not in %s/kustomization.yaml", name, dir)
		}
	}
	for _, r := range append(listed, examples...) {
		for _, doc := range yamlDocs(t, filepath.Join(dir, r)) {
			kind := str(doc, "kind")
			require.Contains(t, apiVersions, kind, "%s: unexpected kind", r)
			require.Equal(t, apiVersions[kind], str(doc, "apiVersion"), "%s: apiVersion of %s", r, kind)
			require.NotEmpty(t, str(doc, "metadata", "name"), "%s: %s without metadata.name", r, kind)
			objs = append(objs, doc)
		}
	}
	return kust, objs
}

// named returns the object of kind called name, or nil.
func named(objs []map[string]any, kind, name string) map[string]any {
	for _, o := range objs {
		if str(o, "kind") == kind && str(o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

func TestKubernetesManifests(t *testing.T) {
	kust, objs := kustomization(t, "kubernetes")
	require.NotNil(t, named(objs, "Namespace", "pgcollector"))
	require.NotNil(t, named(objs, "ServiceAccount", "pgcollector"))
	cm := named(objs, "ConfigMap", "pgcollector")
	require.NotNil(t, cm)
	for _, k := range keys(at(cm, "data")) {
		requireSetting(t, "configmap.yaml", k)
	}
	httpAddr := str(cm, "data", "PGC_HTTP_ADDR")
	_, httpPort, ok := strings.Cut(httpAddr, ":")
	require.True(t, ok && !strings.HasPrefix(httpAddr, "127."), "PGC_HTTP_ADDR %q must listen beyond loopback", httpAddr)
	require.Equal(t, "3", str(cm, "data", "PGC_STREAM_REPLICAS"))
	// The image the kustomization pins is the one the manifests name.
	image, tag, _ := strings.Cut(pgcImage, ":")
	require.Equal(t, image, str(kust, "images", 0, "name"))
	require.Equal(t, tag, str(kust, "images", 0, "newTag"))

	seen := map[string]bool{}
	for _, d := range objs {
		if str(d, "kind") != "Deployment" {
			continue
		}
		name := str(d, "metadata", "name")
		pod := at(d, "spec", "template", "spec")
		for k, v := range at(d, "spec", "selector", "matchLabels").(map[string]any) {
			require.Equal(t, v, at(d, "spec", "template", "metadata", "labels", k), "%s: selector label %s", name, k)
		}
		require.NotNil(t, named(objs, "ServiceAccount", str(pod, "serviceAccountName")), "%s: service account", name)
		require.Equal(t, "true", str(pod, "securityContext", "runAsNonRoot"), "%s: runAsNonRoot", name)
		containers := list(pod, "containers")
		require.Len(t, containers, 1, name)
		c := containers[0]
		require.Equal(t, pgcImage, str(c, "image"), "%s: image", name)
		stage := stageOf(strs(list(c, "args")))
		require.Contains(t, stages, stage, "%s: args must be run --stages <stage>", name)
		require.False(t, seen[stage], "%s: a second Deployment of stage %s", name, stage)
		seen[stage] = true

		for _, kind := range []string{"requests", "limits"} {
			require.NotEmpty(t, str(c, "resources", kind, "memory"), "%s: resources.%s.memory", name, kind)
		}
		require.NotEmpty(t, str(c, "resources", "requests", "cpu"), "%s: resources.requests.cpu", name)
		ports := map[string]string{}
		for _, p := range list(c, "ports") {
			ports[str(p, "name")] = str(p, "containerPort")
		}
		for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz"} {
			require.Equal(t, path, str(c, probe, "httpGet", "path"), "%s: %s path", name, probe)
			port := str(c, probe, "httpGet", "port")
			if p, ok := ports[port]; ok {
				port = p
			}
			require.Equal(t, httpPort, port, "%s: %s must probe PGC_HTTP_ADDR's port", name, probe)
		}
		for _, e := range list(c, "env") {
			requireSetting(t, name, str(e, "name"))
		}
		for _, ef := range list(c, "envFrom") {
			if ref := str(ef, "configMapRef", "name"); ref != "" {
				require.NotNil(t, named(objs, "ConfigMap", ref), "%s: ConfigMap %s", name, ref)
			}
			if ref := str(ef, "secretRef", "name"); ref != "" {
				s := named(objs, "Secret", ref)
				require.NotNil(t, s, "%s: Secret %s", name, ref)
				for _, k := range keys(at(s, "stringData")) {
					requireSetting(t, "Secret "+ref, k)
				}
			}
		}
		for _, v := range list(pod, "volumes") {
			if ref := str(v, "secret", "secretName"); ref != "" {
				require.NotNil(t, named(objs, "Secret", ref), "%s: Secret %s", name, ref)
			}
		}
		require.Equal(t, "true", str(c, "securityContext", "readOnlyRootFilesystem"), "%s: read-only root", name)
	}
	for _, s := range stages {
		require.True(t, seen[s], "no Deployment runs stage %s", s)
	}

	// The NATS URLs name the pods of the cluster in kubernetes/nats.
	_, nats := kustomization(t, filepath.Join("kubernetes", "nats"))
	sts := named(nats, "StatefulSet", "nats")
	require.NotNil(t, sts)
	require.Equal(t, "3", str(sts, "spec", "replicas"))
	headless := str(sts, "spec", "serviceName")
	require.NotNil(t, named(nats, "Service", headless))
	var want []string
	for i := range 3 {
		want = append(want, "nats-"+string(rune('0'+i))+"."+headless)
	}
	require.Equal(t, want, natsHosts(str(cm, "data", "PGC_NATS_URL")))
	_, natsVersion := goMod(t)
	natsImage := str(sts, "spec", "template", "spec", "containers", 0, "image")
	require.True(t, strings.HasPrefix(natsImage, "nats:"+natsVersion), "NATS image %s, go.mod has nats-server %s", natsImage, natsVersion)
	conf := str(named(nats, "ConfigMap", "nats-config"), "data", "nats.conf")
	for _, host := range want {
		require.Contains(t, conf, "nats://"+host+":6222", "nats.conf routes")
	}
	require.Contains(t, conf, "jetstream")
}

// TestKubernetesNamespaceFilesAgree keeps the two copies of the namespace
// (kustomize loads no file outside a kustomization's directory) equal.
func TestKubernetesNamespaceFilesAgree(t *testing.T) {
	a, err := os.ReadFile(filepath.Join("kubernetes", "namespace.yaml"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join("kubernetes", "nats", "namespace.yaml"))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	require.True(t, slices.Contains(strings.Fields(string(a)), "pgcollector"))
}
