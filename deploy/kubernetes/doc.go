// Package kubernetes holds the manifests that run mcpload's shards on a
// cluster: an Indexed Job of n pods, each running one slice of the one
// schedule, a suspended Job that merges their folders, the scenario in a
// ConfigMap and a shared volume for the results. docs/kubernetes.md walks
// through a run. The package has no code; its test decodes every manifest
// strictly with the Kubernetes API types and checks that the pieces agree.
package kubernetes
