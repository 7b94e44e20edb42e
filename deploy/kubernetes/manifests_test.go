package kubernetes_test

import (
	"bytes"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func TestManifests(t *testing.T) {
	t.Parallel()
	m, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, problem := range check(m) {
		t.Error(problem)
	}
	// Every manifest in the folder is one of the files load decodes.
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// scenario.yaml is a scenario; the rest are Kubernetes objects.
	known := []string{shardsFile, mergeFile, scenarioFile, pvcFile, resultsFile, kustFile}
	for _, f := range files {
		if !slices.Contains(known, f) {
			t.Errorf("%s is not decoded by this test", f)
		}
	}
}

// TestManifestsRefuse breaks one thing at a time and checks that the test
// says so.
func TestManifestsRefuse(t *testing.T) {
	t.Parallel()
	replace := func(file, old, new string) func(string, []byte) []byte {
		return func(f string, data []byte) []byte {
			if f != file {
				return data
			}
			if !bytes.Contains(data, []byte(old)) {
				t.Fatalf("%s does not contain %q", file, old)
			}
			return bytes.Replace(data, []byte(old), []byte(new), 1)
		}
	}
	cases := []struct {
		name string
		edit func(string, []byte) []byte
		load bool // the edited files load, and check finds the problem
		mut  func(*manifests)
		want string
	}{
		{name: "unknown field", edit: replace(shardsFile, "completionMode: Indexed", "completionsMode: Indexed"), want: `unknown field "spec.completionsMode"`},
		{name: "duplicate field", edit: replace(shardsFile, "  backoffLimit: 0\n", "  backoffLimit: 0\n  backoffLimit: 1\n"), want: "backoffLimit"},
		{name: "field of the wrong type", edit: replace(pvcFile, "storage: 10Gi", "storage: [10Gi]"), want: pvcFile},
		{name: "unknown kustomization field", edit: replace(kustFile, "configMapGenerator:", "configmapGenerator:"), want: "configmapGenerator"},
		{name: "not indexed", mut: func(m *manifests) { m.shards.Spec.CompletionMode = ptr(batchv1.NonIndexedCompletion) }, want: "completionMode is not Indexed"},
		{name: "parallelism below completions", mut: func(m *manifests) { m.shards.Spec.Parallelism = ptr(int32(3)) }, want: "parallelism"},
		{name: "retries", mut: func(m *manifests) { m.shards.Spec.BackoffLimit = ptr(int32(6)) }, want: "backoffLimit"},
		{name: "restart in place", mut: func(m *manifests) { m.shards.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, want: "restartPolicy"},
		{name: "--shards not completions", mut: func(m *manifests) { setArg(m.shards, "--shards", "3") }, want: "--shards"},
		{name: "command replaces the entrypoint", mut: func(m *manifests) { container(m.shards).Command = []string{"/bin/sh", "-c"} }, want: "entrypoint"},
		{name: "--out off the volume", mut: func(m *manifests) { setArg(m.shards, "--out", "/tmp/$(MCPLOAD_RUN)") }, want: "not a folder under a mounted volume"},
		{name: "--out names an undefined variable", mut: func(m *manifests) { setArg(m.shards, "--out", "/results/$(RUN)") }, want: "$(RUN) names no variable"},
		{name: "results mount renamed", mut: func(m *manifests) { container(m.shards).VolumeMounts[1].Name = "result" }, want: "volumeMount result has no volume"},
		{name: "results mount read-only", mut: func(m *manifests) { container(m.shards).VolumeMounts[1].ReadOnly = true }, want: "read-only"},
		{name: "other claim", mut: func(m *manifests) { m.pvc.Name = "other" }, want: "is not on the volume other"},
		{name: "scenario key renamed", edit: replace(kustFile, "      - scenario.yaml\n", "      - s.yaml=scenario.yaml\n"), load: true, want: "has no key for it"},
		{name: "scenario invalid", edit: replace(scenarioFile, "rate: 100", "rate: -100"), load: true, want: "does not validate"},
		{name: "scenario without a seed", edit: replace(scenarioFile, "seed: 20261205", "seed: 0"), load: true, want: "no seed"},
		{name: "scenario ConfigMap not generated", edit: replace(kustFile, "name: mcpload-scenario", "name: scenario"), load: true, want: "not on a ConfigMap generated here"},
		{name: "bad ConfigMap key", edit: replace(runEnvFile, "start-at=", "start at="), want: `key "start at"`},
		{name: "no index variable", mut: func(m *manifests) {
			c := container(m.shards)
			c.Env = slices.DeleteFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" })
		}, want: "no JOB_COMPLETION_INDEX"},
		{name: "merge elsewhere", mut: func(m *manifests) { container(m.merge).Args[1] = "/results/other" }, want: "merges"},
		{name: "merge not suspended", mut: func(m *manifests) { m.merge.Spec.Suspend = nil }, want: "not suspended"},
		{name: "root", mut: func(m *manifests) { m.shards.Spec.Template.Spec.SecurityContext.RunAsNonRoot = ptr(false) }, want: "runAsNonRoot"},
		{name: "another user", mut: func(m *manifests) { m.merge.Spec.Template.Spec.SecurityContext.RunAsUser = ptr(int64(1000)) }, want: "runAsUser"},
		{name: "no fsGroup", mut: func(m *manifests) { m.shards.Spec.Template.Spec.SecurityContext.FSGroup = nil }, want: "fsGroup"},
		{name: "writable root", mut: func(m *manifests) { container(m.shards).SecurityContext.ReadOnlyRootFilesystem = nil }, want: "readOnlyRootFilesystem"},
		{name: "key required", mut: func(m *manifests) { container(m.shards).Env[3].ValueFrom.SecretKeyRef.Optional = nil }, want: "not optional"},
		{name: "no memory limit", mut: func(m *manifests) { delete(container(m.shards).Resources.Limits, corev1.ResourceMemory) }, want: "no memory limit"},
		{name: "read-write-once volume", mut: func(m *manifests) {
			m.pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		}, want: "ReadWriteMany"},
		{name: "run key missing", edit: replace(runEnvFile, "\nrun=", "\nname="), load: true, want: "has no key run"},
		{name: "start time not RFC 3339", edit: replace(runEnvFile, "start-at=2026-12-05T09:00:00Z", "start-at=09:00"), load: true, want: "start-at"},
		{name: "job not in the kustomization", mut: func(m *manifests) {
			m.kust.Resources = slices.DeleteFunc(m.kust.Resources, func(r string) bool { return r == mergeFile })
		}, want: "do not list " + mergeFile},
		{name: "image not mapped", mut: func(m *manifests) { container(m.merge).Image = "mcpload-other" }, want: "does not map"},
		{name: "results pod elsewhere", mut: func(m *manifests) { m.results.Spec.Containers[0].VolumeMounts[0].MountPath = "/data" }, want: "where the shards do"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := load(t, tc.edit)
			if tc.edit != nil && !tc.load {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("load: %v, want an error with %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.mut != nil {
				tc.mut(m)
			}
			got := check(m)
			if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, tc.want) }) {
				t.Errorf("problems %q, want one with %q", got, tc.want)
			}
		})
	}
}

// TestKustomizeBuild builds the kustomization with kubectl's own kustomize,
// when kubectl is installed, and decodes what it would apply.
func TestKustomizeBuild(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	out, err := exec.Command(kubectl, "kustomize", ".").Output()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v", err)
	}
	m, err := load(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		obj, err := decode("kubectl kustomize", doc)
		if err != nil {
			t.Fatal(err)
		}
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			// What kustomize generated is what this test built and checked.
			if want := m.configMaps[o.Name]; want == nil || !maps.Equal(o.Data, want.Data) {
				t.Errorf("kubectl kustomize: ConfigMap %s is not the one this test generates", o.Name)
			}
			got = append(got, "ConfigMap/"+o.Name)
		case *corev1.PersistentVolumeClaim:
			got = append(got, "PersistentVolumeClaim/"+o.Name)
		case *batchv1.Job:
			got = append(got, "Job/"+o.Name)
			img := m.kust.Images[0]
			if want := img.NewName + ":" + img.NewTag; o.Spec.Template.Spec.Containers[0].Image != want {
				t.Errorf("Job %s: image %q, want %q", o.Name, o.Spec.Template.Spec.Containers[0].Image, want)
			}
		default:
			t.Errorf("kubectl kustomize: an unexpected %T", obj)
		}
	}
	slices.Sort(got)
	want := []string{"ConfigMap/" + scenarioConfigMap, "ConfigMap/" + runConfigMap, "Job/" + m.merge.Name, "Job/" + m.shards.Name, "PersistentVolumeClaim/" + m.pvc.Name}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("kubectl kustomize made %q, want %q", got, want)
	}
}

func ptr[T any](v T) *T { return &v }

func container(j *batchv1.Job) *corev1.Container { return &j.Spec.Template.Spec.Containers[0] }

// setArg sets the value after flag in a Job's args.
func setArg(j *batchv1.Job, flag, value string) {
	args := container(j).Args
	i := slices.Index(args, flag)
	args[i+1] = value
}
