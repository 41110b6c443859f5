// Package deploy holds no code. The directory carries the deployment files
// — systemd units (systemd/), a compose file for a split deployment
// (compose/), the container image (Dockerfile), Kubernetes manifests
// (kubernetes/, with a minimal NATS cluster in kubernetes/nats/) — and the
// tests that keep them consistent with the binary: every setting they use
// exists in `pgcollector config`, every stage runs with its health checks,
// the image and NATS versions agree everywhere. validate.sh adds the
// checks that need tools (systemd-analyze, kubectl kustomize) when those
// are installed.
package deploy
