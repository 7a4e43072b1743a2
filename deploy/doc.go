// Package deploy holds graphgate's deployment files: the Dockerfile (at the
// repository's root), a compose file with nginx and PostgreSQL, and
// Kubernetes manifests. Its test checks that they parse and name only
// configuration that exists.
package deploy
