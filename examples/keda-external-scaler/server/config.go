package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/replicast/replicast/ffi/go/replicast"
)

// The trigger metadata keys the scaler reads (ScaledObjectRef.scalerMetadata).
const (
	KeySpec          = "spec"          // the replicast spec, inline JSON or YAML
	KeySpecPath      = "specPath"      // or a spec file, relative to Options.SpecDir
	KeySource        = "source"        // where observations come from: prometheus (default) or push
	KeyServerAddress = "serverAddress" // the Prometheus base URL
	KeyQuery         = "query"         // PromQL of the spec's only metric; query.0, query.1, ... for several
	KeyLoadQuery     = "loadQuery"     // PromQL of the predictive source's load (a mean rate)
	KeyReplicasQuery = "replicasQuery" // PromQL of the workload's ready replicas (optional)
	KeySignalPrefix  = "signal."       // signal.<name>: PromQL of a threshold source's signal
	KeyMetricName    = "metricName"    // the metric's name in GetMetricSpec (default DefaultMetricName)
	KeyTargetSize    = "targetSize"    // the metric's target, a positive integer (default 1)
)

// DefaultMetricName is the metric's name when the metadata gives none.
const DefaultMetricName = "replicast-replicas"

// maxTargetSize keeps replicas × targetSize exact in a float64 and in KEDA's milli-quantities.
const maxTargetSize = 1_000_000

// kedaKeys are the keys KEDA's external scaler itself reads; they reach the server too.
var kedaKeys = []string{"scalerAddress", "enableTLS", "unsafeSsl"}

// config is one ScaledObject's parsed metadata.
type config struct {
	metricName string
	targetSize int64
	source     source
	scaler     *replicast.Scaler
}

// invalid is the error of bad metadata: gRPC InvalidArgument, naming the key.
func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, "metadata "+format, args...)
}

// parseConfig reads the metadata of key (namespace/name) and builds its scaler; every error is
// InvalidArgument naming the metadata key at fault.
func (s *Server) parseConfig(key objectKey, meta map[string]string) (*config, error) {
	if err := checkKeys(meta); err != nil {
		return nil, err
	}
	cfg := &config{metricName: DefaultMetricName, targetSize: 1}
	if name, ok := meta[KeyMetricName]; ok {
		if strings.TrimSpace(name) == "" {
			return nil, invalid("%s: empty", KeyMetricName)
		}
		cfg.metricName = name
	}
	if text, ok := meta[KeyTargetSize]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil || n < 1 || n > maxTargetSize {
			return nil, invalid("%s: want an integer in [1, %d], got %q", KeyTargetSize, maxTargetSize, text)
		}
		cfg.targetSize = n
	}
	specJSON, where, err := s.loadSpec(meta)
	if err != nil {
		return nil, err
	}
	scaler, err := replicast.NewScaler(specJSON)
	if err != nil {
		return nil, invalid("%s: %v", where, err)
	}
	src, err := s.newSource(key, meta, scaler.MetricCount())
	if err != nil {
		scaler.Close()
		return nil, err
	}
	cfg.scaler, cfg.source = scaler, src
	return cfg, nil
}

func checkKeys(meta map[string]string) error {
	for k := range meta {
		switch {
		case k == KeySpec, k == KeySpecPath, k == KeySource, k == KeyServerAddress, k == KeyQuery,
			k == KeyLoadQuery, k == KeyReplicasQuery, k == KeyMetricName, k == KeyTargetSize,
			slices.Contains(kedaKeys, k),
			strings.HasPrefix(k, KeySignalPrefix), strings.HasPrefix(k, KeyQuery+"."):
		default:
			return invalid("%s: unknown key (known: %s, %s, %s, %s, %s, %s.N, %s, %s, %s<name>, %s, %s)", k,
				KeySpec, KeySpecPath, KeySource, KeyServerAddress, KeyQuery, KeyQuery, KeyLoadQuery,
				KeyReplicasQuery, KeySignalPrefix, KeyMetricName, KeyTargetSize)
		}
	}
	return nil
}

// loadSpec returns the spec as JSON and the metadata key it came from (for error messages).
func (s *Server) loadSpec(meta map[string]string) ([]byte, string, error) {
	inline, hasInline := meta[KeySpec]
	path, hasPath := meta[KeySpecPath]
	var text []byte
	var where string
	switch {
	case hasInline && hasPath:
		return nil, "", invalid("%s and %s: give one, not both", KeySpec, KeySpecPath)
	case hasInline:
		text, where = []byte(inline), KeySpec
	case hasPath:
		where = fmt.Sprintf("%s %q", KeySpecPath, path)
		if s.opts.SpecDir == "" {
			return nil, "", invalid("%s: spec files are disabled (start the server with a spec directory)", where)
		}
		if !filepath.IsLocal(path) {
			return nil, "", invalid("%s: want a relative path inside the spec directory", where)
		}
		b, err := os.ReadFile(filepath.Join(s.opts.SpecDir, path))
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // not the server's directory
			}
			return nil, "", invalid("%s: %v", where, err)
		}
		text = b
	default:
		return nil, "", invalid("%s: missing (give %s, a replicast spec as JSON or YAML, or %s, a spec file)",
			KeySpec, KeySpec, KeySpecPath)
	}
	text = bytes.TrimSpace(text)
	if len(text) == 0 {
		return nil, "", invalid("%s: empty", where)
	}
	if text[0] == '{' {
		return text, where, nil // JSON: replicast parses it and names what is wrong
	}
	j, err := yamlToJSON(text)
	if err != nil {
		return nil, "", invalid("%s: %v", where, err)
	}
	return j, where, nil
}

// yamlToJSON converts a one-document YAML spec to JSON (replicast's C library reads JSON).
func yamlToJSON(text []byte) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("malformed YAML spec: %v", err)
	}
	var next any
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		return nil, errors.New("want one YAML document (give a ScaledObject, an HPA manifest or replicast's own form)")
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, fmt.Errorf("malformed YAML spec: want a mapping, got %T", doc)
	}
	j, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("malformed YAML spec: %v", err)
	}
	return j, nil
}
