package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Observation is what a source saw of one ScaledObject's workload at one instant: the inputs
// of one replicast decision.
type Observation struct {
	// Replicas is the workload's ready replicas now, the pods the metrics were measured over;
	// nil: as many as the current count. The current count is the server's previous
	// recommendation (this value, or 1 if nil, before the first).
	Replicas *uint32
	// Metrics has one value per HPA metric (or KEDA trigger) of the spec, in spec order.
	Metrics []Metric
	// Load is the predictive source's load, a mean rate in the units of its
	// capacity_per_replica; nil: none.
	Load *float64
	// Signals are the threshold source's named values ("cpu", "queue_depth", ...).
	Signals map[string]float64
}

// Metric is one metric's value, or why it could not be read: replicast then holds, or serves
// the spec's fallback, as KEDA does for a failing trigger.
type Metric struct {
	Value float64
	// Err, when not empty, says why the value is unavailable.
	Err string
}

// source observes one ScaledObject's workload.
type source interface {
	observe(ctx context.Context, now time.Time) (Observation, error)
}

// newSource builds the source the metadata names for a spec with metrics HPA metrics.
func (s *Server) newSource(key objectKey, meta map[string]string, metrics int) (source, error) {
	switch name := meta[KeySource]; name {
	case "", "prometheus":
		return s.newPrometheus(meta, metrics)
	case "push":
		if s.opts.Push == nil {
			return nil, invalid("%s: push is not enabled on this server (it serves prometheus)", KeySource)
		}
		for _, k := range []string{KeyServerAddress, KeyQuery, KeyLoadQuery, KeyReplicasQuery} {
			if _, ok := meta[k]; ok {
				return nil, invalid("%s: a Prometheus key, but %s is push", k, KeySource)
			}
		}
		return pushed{s.opts.Push, key}, nil
	default:
		return nil, invalid("%s: unknown source %q (known: prometheus, push)", KeySource, name)
	}
}

// Push is the in-process source: the program embedding the server (or a test) sets each
// ScaledObject's latest observation, and every decision reads it. Safe for concurrent use.
type Push struct {
	mu  sync.Mutex
	obs map[objectKey]Observation
}

// NewPush is an empty push source.
func NewPush() *Push { return &Push{obs: map[objectKey]Observation{}} }

// Set makes o the observation of the ScaledObject namespace/name from now on.
func (p *Push) Set(namespace, name string, o Observation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.obs[objectKey{namespace, name}] = o
}

type pushed struct {
	p   *Push
	key objectKey
}

func (s pushed) observe(context.Context, time.Time) (Observation, error) {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	o, ok := s.p.obs[s.key]
	if !ok {
		return o, fmt.Errorf("nothing pushed for %s yet", s.key)
	}
	return o, nil
}

// prometheus reads each value with an instant query of the Prometheus HTTP API at the
// decision's time.
type prometheus struct {
	client   *http.Client
	endpoint string // .../api/v1/query
	metrics  []string
	load     string
	replicas string
	signals  map[string]string
}

func (s *Server) newPrometheus(meta map[string]string, metrics int) (*prometheus, error) {
	addr := strings.TrimSpace(meta[KeyServerAddress])
	if addr == "" {
		return nil, invalid("%s: missing (the Prometheus base URL, e.g. http://prometheus.monitoring:9090)", KeyServerAddress)
	}
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, invalid("%s: want an http(s) URL, got %q", KeyServerAddress, addr)
	}
	p := &prometheus{
		client:   s.opts.HTTPClient,
		endpoint: strings.TrimSuffix(addr, "/") + "/api/v1/query",
		load:     meta[KeyLoadQuery],
		replicas: meta[KeyReplicasQuery],
		signals:  map[string]string{},
	}
	single, hasSingle := meta[KeyQuery]
	switch {
	case hasSingle && metrics == 1:
		p.metrics = []string{single}
		if _, ok := meta[KeyQuery+".0"]; ok {
			return nil, invalid("%s and %s.0: give one, not both", KeyQuery, KeyQuery)
		}
	case hasSingle:
		return nil, invalid("%s: the spec has %d metrics: give %s.0 to %s.%d (one query each, in spec order)",
			KeyQuery, metrics, KeyQuery, KeyQuery, metrics-1)
	case metrics == 1:
		if _, ok := meta[KeyQuery+".0"]; !ok {
			return nil, invalid("%s: missing (the PromQL query of the spec's metric)", KeyQuery)
		}
		fallthrough
	default:
		for i := range metrics {
			q, ok := meta[fmt.Sprintf("%s.%d", KeyQuery, i)]
			if !ok {
				return nil, invalid("%s.%d: missing (the spec has %d metrics: one query each, in spec order)", KeyQuery, i, metrics)
			}
			p.metrics = append(p.metrics, q)
		}
	}
	for k, q := range meta {
		if strings.HasPrefix(k, KeyQuery+".") {
			i, err := strconv.Atoi(strings.TrimPrefix(k, KeyQuery+"."))
			if err != nil || i < 0 || i >= metrics {
				return nil, invalid("%s: the spec has %s", k, metricsCount(metrics))
			}
		}
		if name, ok := strings.CutPrefix(k, KeySignalPrefix); ok {
			if name == "" {
				return nil, invalid("%s: the signal's name is empty", k)
			}
			p.signals[name] = q
		}
		if strings.TrimSpace(q) == "" && (k == KeyQuery || strings.HasPrefix(k, KeyQuery+".") ||
			k == KeyLoadQuery || k == KeyReplicasQuery || strings.HasPrefix(k, KeySignalPrefix)) {
			return nil, invalid("%s: empty query", k)
		}
	}
	if len(p.metrics) == 0 && p.load == "" && len(p.signals) == 0 {
		return nil, invalid("%s: the spec has no metric: give %s or %s<name>", KeyLoadQuery, KeyLoadQuery, KeySignalPrefix)
	}
	return p, nil
}

func (p *prometheus) observe(ctx context.Context, now time.Time) (Observation, error) {
	var o Observation
	for _, q := range p.metrics {
		v, err := p.query(ctx, q, now)
		if err != nil {
			o.Metrics = append(o.Metrics, Metric{Err: err.Error()})
		} else {
			o.Metrics = append(o.Metrics, Metric{Value: v})
		}
	}
	if p.load != "" {
		v, err := p.query(ctx, p.load, now)
		if err != nil {
			return o, fmt.Errorf("%s: %w", KeyLoadQuery, err)
		}
		o.Load = &v
	}
	if p.replicas != "" {
		v, err := p.query(ctx, p.replicas, now)
		if err != nil {
			return o, fmt.Errorf("%s: %w", KeyReplicasQuery, err)
		}
		if v > math.MaxUint32 {
			return o, fmt.Errorf("%s: %g replicas", KeyReplicasQuery, v)
		}
		n := uint32(math.Round(v))
		o.Replicas = &n
	}
	if len(p.signals) > 0 {
		names := make([]string, 0, len(p.signals))
		for name := range p.signals {
			names = append(names, name)
		}
		sort.Strings(names)
		o.Signals = map[string]float64{}
		for _, name := range names {
			v, err := p.query(ctx, p.signals[name], now)
			if err != nil {
				return o, fmt.Errorf("%s%s: %w", KeySignalPrefix, name, err)
			}
			o.Signals[name] = v
		}
	}
	return o, nil
}

// query runs an instant query and returns its one value: an empty result is 0 (as KEDA's
// prometheus scaler has it by default); several series, NaN, infinities or negative values
// are errors.
func (p *prometheus) query(ctx context.Context, q string, now time.Time) (float64, error) {
	params := url.Values{
		"query": {q},
		"time":  {strconv.FormatFloat(float64(now.UnixMilli())/1000, 'f', 3, 64)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.endpoint+"?"+params.Encode(), nil)
	if err != nil {
		return 0, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("prometheus: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("prometheus: %w", err)
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("prometheus: HTTP %d, not an API response: %v", resp.StatusCode, err)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("prometheus: query %q: %s", q, r.Error)
	}
	var sample []json.RawMessage // [time, "value"]
	switch r.Data.ResultType {
	case "vector":
		var series []struct {
			Value []json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &series); err != nil {
			return 0, fmt.Errorf("prometheus: query %q: %v", q, err)
		}
		switch len(series) {
		case 0:
			return 0, nil
		case 1:
			sample = series[0].Value
		default:
			return 0, fmt.Errorf("prometheus: query %q returned %d series, want one (aggregate it, e.g. with sum)", q, len(series))
		}
	case "scalar":
		if err := json.Unmarshal(r.Data.Result, &sample); err != nil {
			return 0, fmt.Errorf("prometheus: query %q: %v", q, err)
		}
	default:
		return 0, fmt.Errorf("prometheus: query %q returned a %s, want a vector or a scalar", q, r.Data.ResultType)
	}
	var text string
	if len(sample) != 2 || json.Unmarshal(sample[1], &text) != nil {
		return 0, fmt.Errorf("prometheus: query %q: malformed sample", q)
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, fmt.Errorf("prometheus: query %q returned %s, want a finite value >= 0", q, text)
	}
	return v, nil
}

func metricsCount(n int) string {
	switch n {
	case 0:
		return "no metric"
	case 1:
		return "one metric (give query)"
	default:
		return fmt.Sprintf("%d metrics (query.0 to query.%d)", n, n-1)
	}
}
