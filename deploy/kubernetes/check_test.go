package kubernetes_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/mcpload/mcpload/scenarios"
)

// problems collects what check finds.
type problems []string

func (p *problems) addf(format string, a ...any) { *p = append(*p, fmt.Sprintf(format, a...)) }

// check returns every way the manifests disagree with each other, with
// the image, or with how mcpload runs shards.
func check(m *manifests) problems {
	var p problems
	checkKustomization(m, &p)
	checkRunEnv(m, &p)
	if len(m.pvc.Spec.AccessModes) == 0 || !slices.Contains(m.pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		p.addf("%s: accessModes %v: the shards on different nodes need ReadWriteMany", pvcFile, m.pvc.Spec.AccessModes)
	}
	if q, ok := m.pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || q.IsZero() {
		p.addf("%s: no storage request", pvcFile)
	}

	// The shards.
	spec := m.shards.Spec
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		p.addf("%s: completionMode is not Indexed: the pods would get no JOB_COMPLETION_INDEX", shardsFile)
	}
	if spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism {
		p.addf("%s: completions %v and parallelism %v differ: the shards would not all run at once", shardsFile, deref(spec.Completions), deref(spec.Parallelism))
	}
	if spec.BackoffLimit == nil || *spec.BackoffLimit != 0 {
		p.addf("%s: backoffLimit %v: a shard run again starts off the schedule; want 0", shardsFile, deref(spec.BackoffLimit))
	}
	c, ok := checkPod(m, shardsFile, &spec.Template.Spec, &p)
	if ok {
		env := resolveEnv(m, shardsFile, c, &p)
		checkIndexEnv(shardsFile, c, &p)
		args := expandAll(shardsFile, c.Args, env, &p)
		if len(args) < 2 || args[0] != "run" {
			p.addf("%s: args %q: want run SCENARIO --shards N --out DIR", shardsFile, c.Args)
		} else {
			flags := parseFlags(args[2:])
			if n, err := strconv.Atoi(flags["shards"]); err != nil || spec.Completions == nil || int32(n) != *spec.Completions {
				p.addf("%s: --shards %q is not completions (%v)", shardsFile, flags["shards"], deref(spec.Completions))
			}
			checkResultsPath(m, shardsFile, &spec.Template.Spec, c, flags["out"], &p)
			if _, err := time.Parse(time.RFC3339, flags["start-at"]); err != nil {
				p.addf("%s: --start-at %q: %v", shardsFile, flags["start-at"], err)
			}
			checkScenario(m, &spec.Template.Spec, c, args[1], flags["seed"], &p)
			if mergeOut := mergeOut(m, &p); mergeOut != "" && mergeOut != flags["out"] {
				p.addf("%s: merges %q, but the shards write %q", mergeFile, mergeOut, flags["out"])
			}
		}
	}

	// The results pod reads the volume where the Jobs mount it, so that
	// the paths the docs give work in both.
	r := m.results.Spec
	if rc, ok := checkPodSecurity(m, resultsFile, &r, &p); ok {
		if c == nil || mountPathOf(&spec.Template.Spec, c, m.pvc.Name) != mountPathOf(&r, rc, m.pvc.Name) {
			p.addf("%s: does not mount %s where the shards do", resultsFile, m.pvc.Name)
		}
	}
	return p
}

func deref[T any](v *T) any {
	if v == nil {
		return nil
	}
	return *v
}

// checkKustomization checks that kubectl apply -k creates every manifest
// but the results pod, and the ConfigMap the Jobs read.
func checkKustomization(m *manifests, p *problems) {
	if m.kust.APIVersion != "kustomize.config.k8s.io/v1beta1" || m.kust.Kind != "Kustomization" {
		p.addf("%s: apiVersion %q kind %q", kustFile, m.kust.APIVersion, m.kust.Kind)
	}
	for _, r := range m.kust.Resources {
		if _, err := os.Stat(r); err != nil {
			p.addf("%s: resource %s: %v", kustFile, r, err)
		}
	}
	for _, want := range []string{pvcFile, shardsFile, mergeFile} {
		if !slices.Contains(m.kust.Resources, want) {
			p.addf("%s: resources do not list %s", kustFile, want)
		}
	}
	if slices.Contains(m.kust.Resources, resultsFile) {
		p.addf("%s: lists %s, which is started after the merge", kustFile, resultsFile)
	}
	for _, name := range []string{scenarioConfigMap, runConfigMap} {
		if m.configMaps[name] == nil {
			p.addf("%s: no configMapGenerator %s", kustFile, name)
		}
	}
	for _, j := range []*batchv1.Job{m.shards, m.merge} {
		for _, c := range j.Spec.Template.Spec.Containers {
			name, _, _ := strings.Cut(c.Image, ":")
			if !slices.ContainsFunc(m.kust.Images, func(i kustImage) bool { return i.Name == name }) {
				p.addf("%s: images: does not map %s's image %q", kustFile, j.Name, c.Image)
			}
		}
	}
}

var runNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// checkRunEnv checks the run's name and start time.
func checkRunEnv(m *manifests, p *problems) {
	run := m.run()
	if !runNameRE.MatchString(run["run"]) || strings.Trim(run["run"], ".") == "" {
		p.addf("%s: run %q: want a folder name (letters, digits, '.', '_', '-')", runEnvFile, run["run"])
	}
	if _, err := time.Parse(time.RFC3339, run["start-at"]); err != nil {
		p.addf("%s: start-at %q: %v", runEnvFile, run["start-at"], err)
	}
}

// checkPod checks what both Jobs' pods share and returns the mcpload
// container.
func checkPod(m *manifests, file string, pod *corev1.PodSpec, p *problems) (*corev1.Container, bool) {
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		p.addf("%s: restartPolicy %q: want Never, so that a failed shard fails its Job", file, pod.RestartPolicy)
	}
	c, ok := checkPodSecurity(m, file, pod, p)
	if !ok {
		return nil, false
	}
	if len(c.Command) > 0 && !slices.Equal(c.Command, m.image.entrypoint) {
		p.addf("%s: command %q replaces the image's entrypoint %q", file, c.Command, m.image.entrypoint)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[r]; !ok {
			p.addf("%s: no %s request", file, r)
		}
		if _, ok := c.Resources.Limits[r]; !ok {
			p.addf("%s: no %s limit", file, r)
		}
	}
	return c, true
}

// checkPodSecurity checks that a pod runs as the image's non-root user
// with a read-only root and no privileges, and returns its one container.
func checkPodSecurity(m *manifests, file string, pod *corev1.PodSpec, p *problems) (*corev1.Container, bool) {
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		p.addf("%s: securityContext.runAsNonRoot is not true", file)
	}
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != m.image.uid {
		p.addf("%s: runAsUser is not the image's user %d", file, m.image.uid)
	}
	if len(pod.Containers) != 1 {
		p.addf("%s: %d containers, want 1", file, len(pod.Containers))
		return nil, false
	}
	c := &pod.Containers[0]
	csc := c.SecurityContext
	if csc == nil || csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation {
		p.addf("%s: allowPrivilegeEscalation is not false", file)
	}
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem {
		p.addf("%s: readOnlyRootFilesystem is not true", file)
	}
	if csc == nil || csc.Capabilities == nil || !slices.Contains(csc.Capabilities.Drop, "ALL") {
		p.addf("%s: capabilities do not drop ALL", file)
	}
	for _, vm := range c.VolumeMounts {
		if volume(pod, vm.Name) == nil {
			p.addf("%s: volumeMount %s has no volume", file, vm.Name)
		}
	}
	return c, true
}

// resolveEnv returns the container's environment as Kubernetes builds it,
// with values from the manifests' ConfigMaps; a fieldRef's value is
// unknown here and stands as "(fieldPath)".
func resolveEnv(m *manifests, file string, c *corev1.Container, p *problems) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expand(file, e.Value, env, p)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm := m.configMaps[ref.Name]
			if cm == nil {
				p.addf("%s: env %s: ConfigMap %s is not generated here", file, e.Name, ref.Name)
				continue
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				p.addf("%s: env %s: ConfigMap %s has no key %s", file, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			// The mock needs no key: without the Secret, the pod must start.
			if o := e.ValueFrom.SecretKeyRef.Optional; o == nil || !*o {
				p.addf("%s: env %s: the Secret key is not optional: the pods would not start without the Secret", file, e.Name)
			}
			env[e.Name] = ""
		case e.ValueFrom.FieldRef != nil:
			env[e.Name] = "(" + e.ValueFrom.FieldRef.FieldPath + ")"
		default:
			env[e.Name] = ""
		}
	}
	return env
}

// checkIndexEnv checks that the shard's index comes from the Job.
func checkIndexEnv(file string, c *corev1.Container, p *problems) {
	for _, e := range c.Env {
		if e.Name != "JOB_COMPLETION_INDEX" {
			continue
		}
		if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil ||
			(e.ValueFrom.FieldRef.FieldPath != indexAnnotation && e.ValueFrom.FieldRef.FieldPath != indexLabel) {
			p.addf("%s: JOB_COMPLETION_INDEX does not come from %s", file, indexAnnotation)
		}
		return
	}
	p.addf("%s: no JOB_COMPLETION_INDEX in the container's env", file)
}

var varRE = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expand expands $(VAR) as Kubernetes does in args and env values. A
// reference to a variable the container does not define is passed on
// literally by Kubernetes, which mcpload would then read as a path or a
// time: it is a problem here.
func expand(file, s string, env map[string]string, p *problems) string {
	return varRE.ReplaceAllStringFunc(s, func(ref string) string {
		name := varRE.FindStringSubmatch(ref)[1]
		v, ok := env[name]
		if !ok {
			p.addf("%s: %s names no variable of the container's env", file, ref)
			return ref
		}
		return v
	})
}

func expandAll(file string, args []string, env map[string]string, p *problems) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expand(file, a, env, p)
	}
	return out
}

// boolFlags are mcpload run's flags that take no value.
var boolFlags = map[string]bool{"allow-remote": true, "local": true, "fd-check": true}

// parseFlags reads --name value and --name=value.
func parseFlags(args []string) map[string]string {
	flags := map[string]string{}
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			continue
		}
		if k, v, ok := strings.Cut(name, "="); ok {
			flags[k] = v
			continue
		}
		if boolFlags[name] || i+1 == len(args) {
			flags[name] = "true"
			continue
		}
		flags[name] = args[i+1]
		i++
	}
	return flags
}

func volume(pod *corev1.PodSpec, name string) *corev1.Volume {
	for i := range pod.Volumes {
		if pod.Volumes[i].Name == name {
			return &pod.Volumes[i]
		}
	}
	return nil
}

// mountFor returns the container's mount that holds path, the deepest.
func mountFor(c *corev1.Container, path string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		dir := strings.TrimSuffix(vm.MountPath, "/") + "/"
		if strings.HasPrefix(path, dir) && (best == nil || len(vm.MountPath) > len(best.MountPath)) {
			best = vm
		}
	}
	return best
}

// mountPathOf returns where the container mounts the claim, or "".
func mountPathOf(pod *corev1.PodSpec, c *corev1.Container, claim string) string {
	for _, vm := range c.VolumeMounts {
		if v := volume(pod, vm.Name); v != nil && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claim {
			return vm.MountPath
		}
	}
	return ""
}

// checkResultsPath checks that out is a folder on the shared volume,
// writable.
func checkResultsPath(m *manifests, file string, pod *corev1.PodSpec, c *corev1.Container, out string, p *problems) {
	vm := mountFor(c, out)
	if vm == nil || filepath.Clean(out) != out {
		p.addf("%s: --out %q is not a folder under a mounted volume", file, out)
		return
	}
	v := volume(pod, vm.Name)
	if v == nil || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != m.pvc.Name {
		p.addf("%s: --out %q is not on the volume %s", file, out, m.pvc.Name)
		return
	}
	if vm.ReadOnly || v.PersistentVolumeClaim.ReadOnly {
		p.addf("%s: --out %q is on a read-only mount", file, out)
	}
	if sc := pod.SecurityContext; sc == nil || sc.FSGroup == nil || *sc.FSGroup != m.image.gid {
		p.addf("%s: fsGroup is not the image's group %d: the volume may not be writable", file, m.image.gid)
	}
}

// checkScenario checks that path is the scenario ConfigMap's key, mounted,
// and that the scenario validates and fixes the seed the shards share.
func checkScenario(m *manifests, pod *corev1.PodSpec, c *corev1.Container, path, seedFlag string, p *problems) {
	vm := mountFor(c, path)
	if vm == nil {
		p.addf("%s: scenario %q is not under a mounted volume", shardsFile, path)
		return
	}
	v := volume(pod, vm.Name)
	if v == nil || v.ConfigMap == nil || m.configMaps[v.ConfigMap.Name] == nil {
		p.addf("%s: scenario %q is not on a ConfigMap generated here", shardsFile, path)
		return
	}
	cm := m.configMaps[v.ConfigMap.Name]
	rel := strings.TrimPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/")
	key := ""
	if len(v.ConfigMap.Items) == 0 {
		key = rel
	}
	for _, it := range v.ConfigMap.Items {
		if it.Path == rel {
			key = it.Key
		}
	}
	data, ok := cm.Data[key]
	if key == "" || !ok {
		p.addf("%s: scenario %q: the ConfigMap %s has no key for it", shardsFile, path, cm.Name)
		return
	}
	s, err := scenarios.Parse(scenarioFile, []byte(data))
	if err != nil {
		p.addf("%s: the scenario does not validate: %v", scenarioFile, err)
		return
	}
	if s.Seed == 0 && seedFlag == "" {
		p.addf("%s: the scenario has no seed and the args no --seed: each shard would draw its own schedule", scenarioFile)
	}
}

// mergeOut checks the merge Job and returns the folder it merges.
func mergeOut(m *manifests, p *problems) string {
	spec := m.merge.Spec
	if spec.Suspend == nil || !*spec.Suspend {
		p.addf("%s: not suspended: it would merge before the shards are done", mergeFile)
	}
	if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion {
		p.addf("%s: Indexed: the merge is one pod", mergeFile)
	}
	c, ok := checkPod(m, mergeFile, &spec.Template.Spec, p)
	if !ok {
		return ""
	}
	args := expandAll(mergeFile, c.Args, resolveEnv(m, mergeFile, c, p), p)
	if len(args) != 2 || args[0] != "merge" {
		p.addf("%s: args %q: want merge OUT", mergeFile, c.Args)
		return ""
	}
	checkResultsPath(m, mergeFile, &spec.Template.Spec, c, args[1], p)
	return args[1]
}
