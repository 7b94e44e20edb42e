package kubernetes_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8sjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
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
