package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var specYAML []byte

var spec = sync.OnceValues(func() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(specYAML, &doc); err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml: %w", err)
	}
	b, err := json.Marshal(stringKeys(doc))
	if err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml to JSON: %w", err)
	}
	return b, nil
})

// JSON returns the OpenAPI document as JSON. An error means the embedded
// YAML is broken (a test catches that before release).
func JSON() ([]byte, error) { return spec() }

// stringKeys makes every mapping key a string (YAML allows others, such as
// a response code written without quotes), so the document encodes as JSON.
func stringKeys(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = stringKeys(e)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = stringKeys(e)
		}
		return out
	case []any:
		for i, e := range x {
			x[i] = stringKeys(e)
		}
		return x
	}
	return v
}

// Operation is one documented method and path, the path as OpenAPI writes
// it (relative to the /api/v1 server, parameters in braces).
type Operation struct {
	Method string
	Path   string
}

func (o Operation) String() string { return o.Method + " " + o.Path }

var methods = []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}

// Operations lists the documented operations, sorted.
func Operations() ([]Operation, error) {
	b, err := JSON()
	if err != nil {
		return nil, err
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("apidoc: %w", err)
	}
	var out []Operation
	for path, item := range doc.Paths {
		for m := range item {
			if slices.Contains(methods, m) {
				out = append(out, Operation{Method: strings.ToUpper(m), Path: path})
			}
		}
	}
	slices.SortFunc(out, func(a, b Operation) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// FromEcho converts an Echo route path under /api/v1 (":id", "*") to the
// document's form ("/campaigns/{id}", "{path}"); ok is false for paths
// outside /api/v1.
func FromEcho(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/api/v1")
	if !ok || (rest != "" && rest[0] != '/') {
		return "", false
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":"):
			segs[i] = "{" + s[1:] + "}"
		case s == "*":
			segs[i] = "{path}"
		}
	}
	return strings.Join(segs, "/"), true
}
