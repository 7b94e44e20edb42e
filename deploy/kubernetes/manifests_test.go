package kubernetes_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/mcpload/mcpload/scenarios"
)

// The objects the manifests must hold, by file.
const (
	shardsFile   = "shards-job.yaml"
	mergeFile    = "merge-job.yaml"
	scenarioFile = "scenario.yaml"
	pvcFile      = "pvc.yaml"
	resultsFile  = "results-pod.yaml"
	kustFile     = "kustomization.yaml"
	runEnvFile   = "run.env"
	// The ConfigMaps kustomization.yaml generates from scenario.yaml and
	// run.env.
	scenarioConfigMap = "mcpload-scenario"
	runConfigMap      = "mcpload-run"
	// indexAnnotation is where the Job controller writes a pod's index.
	indexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
	indexLabel      = "metadata.labels['batch.kubernetes.io/job-completion-index']"
)

// decoder decodes YAML strictly into the Kubernetes API types, as the API
// server's strict field validation does: an unknown or duplicate field is
// an error.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, batchv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return k8sjson.NewSerializerWithOptions(k8sjson.DefaultMetaFactory, scheme, scheme,
		k8sjson.SerializerOptions{Yaml: true, Strict: true})
}()

// kustomization is the part of kustomize's Kustomization these manifests
// use; decoding it strictly refuses a misspelt field.
type kustomization struct {
	APIVersion         string   `json:"apiVersion"`
	Kind               string   `json:"kind"`
	Resources          []string `json:"resources"`
	ConfigMapGenerator []struct {
		Name    string   `json:"name"`
		Files   []string `json:"files"`
		Envs    []string `json:"envs"`
		Options struct {
			Labels map[string]string `json:"labels"`
		} `json:"options"`
	} `json:"configMapGenerator"`
	GeneratorOptions struct {
		DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
	} `json:"generatorOptions"`
	Images []kustImage `json:"images"`
}

// kustImage is an entry of a Kustomization's images.
type kustImage struct {
	Name    string `json:"name"`
	NewName string `json:"newName"`
	NewTag  string `json:"newTag"`
}

// image is what the Dockerfile says about the container.
type image struct {
	entrypoint []string
	uid, gid   int64
}

// manifests is the folder, decoded.
type manifests struct {
	shards, merge *batchv1.Job
	pvc           *corev1.PersistentVolumeClaim
	results       *corev1.Pod
	kust          kustomization
	// configMaps are the ConfigMaps the kustomization generates, by name.
	configMaps map[string]*corev1.ConfigMap
	image      image
}

// run is the run's name and start time, from run.env.
func (m *manifests) run() map[string]string { return m.configMaps[runConfigMap].Data }

// decode decodes one manifest strictly into a typed object.
func decode(file string, data []byte) (runtime.Object, error) {
	obj, _, err := decoder.Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return obj, nil
}

// decodeStrict decodes YAML into v as the Kubernetes decoder does: field
// names match exactly, and an unknown or duplicate one is an error.
func decodeStrict(data []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return err
	}
	strict, err := sigsjson.UnmarshalStrict(j, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// decodeAs decodes file's data strictly and checks that it is a T.
func decodeAs[T runtime.Object](file string, data []byte) (T, error) {
	var zero T
	obj, err := decode(file, data)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("%s: a %T, want a %T", file, obj, zero)
	}
	return t, nil
}

// load decodes the folder's files, each through edit when it is given
// (the refusal tests break one file's text).
func load(t *testing.T, edit func(file string, data []byte) []byte) (*manifests, error) {
	t.Helper()
	read := func(file string) []byte {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if edit != nil {
			data = edit(file, data)
		}
		return data
	}
	m := &manifests{}
	var err error
	if m.shards, err = decodeAs[*batchv1.Job](shardsFile, read(shardsFile)); err != nil {
		return nil, err
	}
	if m.merge, err = decodeAs[*batchv1.Job](mergeFile, read(mergeFile)); err != nil {
		return nil, err
	}
	if m.pvc, err = decodeAs[*corev1.PersistentVolumeClaim](pvcFile, read(pvcFile)); err != nil {
		return nil, err
	}
	if m.results, err = decodeAs[*corev1.Pod](resultsFile, read(resultsFile)); err != nil {
		return nil, err
	}
	if err := decodeStrict(read(kustFile), &m.kust); err != nil {
		return nil, fmt.Errorf("%s: %w", kustFile, err)
	}
	if m.configMaps, err = generate(m.kust, read); err != nil {
		return nil, fmt.Errorf("%s: %w", kustFile, err)
	}
	if m.image, err = parseDockerfile(read(filepath.Join("..", "..", "Dockerfile"))); err != nil {
		return nil, fmt.Errorf("Dockerfile: %w", err)
	}
	return m, nil
}

// generate builds the ConfigMaps of the kustomization's configMapGenerator
// as kustomize does, from files (key: the file's name, or KEY=FILE) and
// envs files, and checks their keys as the API server would.
func generate(k kustomization, read func(string) []byte) (map[string]*corev1.ConfigMap, error) {
	out := map[string]*corev1.ConfigMap{}
	for _, g := range k.ConfigMapGenerator {
		cm := &corev1.ConfigMap{Data: map[string]string{}}
		cm.Name = g.Name
		for _, f := range g.Files {
			key, file, ok := strings.Cut(f, "=")
			if !ok {
				key, file = filepath.Base(f), f
			}
			cm.Data[key] = string(read(file))
		}
		for _, f := range g.Envs {
			kv, err := parseEnvFile(read(f))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			maps.Copy(cm.Data, kv)
		}
		for key := range cm.Data {
			if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
				return nil, fmt.Errorf("ConfigMap %s: key %q: %s", g.Name, key, strings.Join(errs, "; "))
			}
		}
		if _, dup := out[g.Name]; dup {
			return nil, fmt.Errorf("configMapGenerator %s twice", g.Name)
		}
		out[g.Name] = cm
	}
	return out, nil
}

// parseEnvFile reads KEY=VALUE lines as kustomize's envs: does, skipping
// blank lines and comments.
func parseEnvFile(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: not KEY=VALUE: %q", n, line)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %s again", n, k)
		}
		out[k] = v
	}
	return out, sc.Err()
}

var userRE = regexp.MustCompile(`^(\d+)(?::(\d+))?$`)

// parseDockerfile reads the final stage's ENTRYPOINT (exec form) and USER.
func parseDockerfile(data []byte) (image, error) {
	var img image
	for line := range strings.Lines(string(data)) {
		kw, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(kw) {
		case "FROM": // a new stage: only the last one's counts
			img = image{}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(rest), &img.entrypoint); err != nil {
				return img, fmt.Errorf("ENTRYPOINT %s: not the exec form: %w", rest, err)
			}
		case "USER":
			m := userRE.FindStringSubmatch(strings.TrimSpace(rest))
			if m == nil {
				return img, fmt.Errorf("USER %s: want UID[:GID]", rest)
			}
			img.uid, _ = strconv.ParseInt(m[1], 10, 64)
			img.gid = img.uid
			if m[2] != "" {
				img.gid, _ = strconv.ParseInt(m[2], 10, 64)
			}
		}
	}
	if len(img.entrypoint) == 0 || img.uid == 0 {
		return img, fmt.Errorf("no ENTRYPOINT or no non-root USER in the final stage")
	}
	return img, nil
}

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
