package kubernetes_test

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/mcpload/mcpload/internal/bintest"
)

// TestJobsRehearsal runs what the pods run, here: the shards Job's args,
// with its environment and the index the Job gives each pod, as n
// processes of a built mcpload, with the volumes as folders at the same
// relative paths; then the merge Job's args. It is the Kubernetes path
// without Kubernetes: the args parse, the shards start together and write
// where the merge reads, and the merge accepts them.
func TestJobsRehearsal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds mcpload and runs n shards")
	}
	t.Parallel()
	m, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := bintest.Mcpload(t, "../..")

	// This run's name and start time, as step 6 of docs/kubernetes.md
	// writes them: soon enough for a short test, late enough for every
	// process to be waiting.
	run := m.run()
	run["run"] = "rehearsal"
	run["start-at"] = time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)

	// The volumes, as folders: the PVC shared by both Jobs, the ConfigMaps
	// written out as the kubelet projects them.
	root := filepath.Join(dir, "fs")
	shardsPod := &m.shards.Spec.Template.Spec
	n := int(*m.shards.Spec.Completions)
	var p problems
	shardArgs := volumesAsFolders(t, m, root, shardsPod, expandAll(shardsFile, shardsPod.Containers[0].Args, resolveEnv(m, shardsFile, &shardsPod.Containers[0], &p), &p))
	mergePod := &m.merge.Spec.Template.Spec
	mergeArgs := volumesAsFolders(t, m, root, mergePod, expandAll(mergeFile, mergePod.Containers[0].Args, resolveEnv(m, mergeFile, &mergePod.Containers[0], &p), &p))
	if len(p) > 0 {
		t.Fatal(p)
	}
	// The shipped run is a minute; two seconds of it say as much here.
	shardArgs = append(shardArgs, "--duration", "2s")

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	outs := make([]bytes.Buffer, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, bin, shardArgs...)
			cmd.Env = append(os.Environ(), "JOB_COMPLETION_INDEX="+strconv.Itoa(i))
			cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
			errs[i] = cmd.Run()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("shard %d: mcpload %s: %v\n%s", i, strings.Join(shardArgs, " "), err, outs[i].String())
		}
	}
	out, err := exec.CommandContext(ctx, bin, mergeArgs...).CombinedOutput()
	if err != nil {
		t.Fatalf("mcpload %s: %v\n%s", strings.Join(mergeArgs, " "), err, out)
	}

	merged := mergeArgs[len(mergeArgs)-1]
	for i := range n {
		if _, err := os.Stat(filepath.Join(merged, "shards", strconv.Itoa(i), "summary.json")); err != nil {
			t.Errorf("shard %d's folder: %v", i, err)
		}
	}
	for _, f := range []string{"summary.json", "results.bin", "report.md"} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Errorf("the merged run: %v", err)
		}
	}
}

// volumesAsFolders writes the pod's ConfigMap volumes under root as the
// kubelet would mount them, and returns args with every mount path
// replaced by its folder under root. The PVC's folder is the same for
// every pod that mounts it, as the volume is.
func volumesAsFolders(t *testing.T, m *manifests, root string, pod *corev1.PodSpec, args []string) []string {
	t.Helper()
	c := &pod.Containers[0]
	out := append([]string(nil), args...)
	for _, vm := range c.VolumeMounts {
		v := volume(pod, vm.Name)
		var folder string
		switch {
		case v.PersistentVolumeClaim != nil:
			folder = filepath.Join(root, "pvc", v.PersistentVolumeClaim.ClaimName)
		case v.ConfigMap != nil:
			folder = filepath.Join(root, "configmap", v.ConfigMap.Name)
			cm := m.configMaps[v.ConfigMap.Name]
			files := maps.Clone(cm.Data)
			if len(v.ConfigMap.Items) > 0 {
				files = map[string]string{}
				for _, it := range v.ConfigMap.Items {
					files[it.Path] = cm.Data[it.Key]
				}
			}
			for path, data := range files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(folder, path)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(folder, path), []byte(data), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		default:
			t.Fatalf("volume %s: not a PVC or a ConfigMap", vm.Name)
		}
		if err := os.MkdirAll(folder, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, a := range out {
			if a == vm.MountPath || strings.HasPrefix(a, vm.MountPath+"/") {
				out[i] = folder + strings.TrimPrefix(a, vm.MountPath)
			}
		}
	}
	return out
}
