package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/replicast/replicast/examples/keda-external-scaler/externalscaler"
	"github.com/replicast/replicast/ffi/go/replicast"
)

// fakePrometheus answers instant queries from a table: query -> the body's "data" member.
type fakePrometheus struct {
	mu      sync.Mutex
	answers map[string]string
	times   []string // the time parameter of each request
}

func vector(values ...string) string {
	series := make([]string, len(values))
	for i, v := range values {
		series[i] = fmt.Sprintf(`{"metric": {"pod": "p%d"}, "value": [1700000000, %q]}`, i, v)
	}
	return `{"resultType": "vector", "result": [` + strings.Join(series, ",") + `]}`
}

func (f *fakePrometheus) set(query, data string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[query] = data
}

func (f *fakePrometheus) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/api/v1/query" {
		http.NotFound(w, r)
		return
	}
	f.times = append(f.times, r.URL.Query().Get("time"))
	data, ok := f.answers[r.URL.Query().Get("query")]
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"status": "error", "errorType": "bad_data", "error": "parse error"}`)
		return
	}
	fmt.Fprintf(w, `{"status": "success", "data": %s}`, data)
}

func startPrometheus(t *testing.T) (*fakePrometheus, string) {
	f := &fakePrometheus{answers: map[string]string{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestPrometheusSource(t *testing.T) {
	prom, url := startPrometheus(t)
	clk := newClock()
	c, _ := serve(t, Options{Now: clk.now})
	r := ref("web", map[string]string{
		KeySpec: hpaSpecYAML, KeyServerAddress: url + "/",
		KeyQuery: "avg(cpu_utilisation)", KeyReplicasQuery: "replicas",
	})
	direct, err := replicast.NewScaler(`{"min_replicas": 1, "max_replicas": 10, "hpa": {"metrics": [
		{"type": "resource", "resource": "cpu", "target": {"type": "utilization", "average_utilization": 50}}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	st := replicast.NewState()
	defer st.Close()
	decide := func(current, ready uint32, m replicast.MetricInput) uint32 {
		t.Helper()
		d, err := direct.Decide(st, replicast.DecisionInput{NowMs: clk.now().UnixMilli(), CurrentReplicas: current,
			ReadyReplicas: &ready, Metrics: []replicast.MetricInput{m}})
		if err != nil {
			t.Fatal(err)
		}
		return d.Replicas
	}

	// 2 replicas at 100 % for a 50 % target: 4
	prom.set("avg(cpu_utilisation)", vector("100"))
	prom.set("replicas", `{"resultType": "scalar", "result": [1700000000, "2"]}`)
	got := metricValue(t, c, r, DefaultMetricName)
	if want := decide(2, 2, replicast.Aggregated(100, 2)); got != float64(want) || want != 4 {
		t.Fatalf("metric %g, replicast %d, want 4", got, want)
	}
	if !isActive(t, c, r) {
		t.Fatal("4 replicas recommended: want active")
	}
	// the IsActive decision, mirrored: 4 current (recommended), 2 ready at 100 %: still 4
	if want := decide(4, 2, replicast.Aggregated(100, 2)); want != 4 {
		t.Fatalf("replicast %d", want)
	}
	// the queries ran at the server's clock (seconds, millisecond precision)
	if prom.times[0] != "1700000000.000" {
		t.Fatalf("query time %q, want the clock's 1700000000.000", prom.times[0])
	}

	// a failing metric query is an unavailable metric: replicast holds the 4 replicas
	clk.advance(15 * time.Second)
	prom.set("avg(cpu_utilisation)", vector("10", "20")) // two series: refused
	prom.set("replicas", vector("4"))
	got = metricValue(t, c, r, DefaultMetricName)
	want := decide(4, 4, replicast.Unavailable("two series"))
	if got != float64(want) || want != 4 {
		t.Fatalf("metric %g, replicast %d, want a hold at 4", got, want)
	}

	// an empty result is 0 (KEDA's prometheus scaler default): down to the minimum, after the
	// 300 s stabilization window
	clk.advance(301 * time.Second)
	prom.set("avg(cpu_utilisation)", vector())
	got = metricValue(t, c, r, DefaultMetricName)
	if want := decide(4, 4, replicast.Aggregated(0, 4)); got != float64(want) || want != 1 {
		t.Fatalf("metric %g, replicast %d, want 1", got, want)
	}

	// the replicas query failing is the call's failure (the decision needs the replicas)
	clk.advance(15 * time.Second)
	prom.set("replicas", `{"resultType": "matrix", "result": []}`)
	_, err = c.IsActive(context.Background(), r)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "replicasQuery: prometheus: query \"replicas\" returned a matrix") {
		t.Fatalf("want Unavailable naming replicasQuery, got %v", err)
	}
}

// The committed example ScaledObject works as written: its trigger metadata, against a fake
// Prometheus, gives the metric spec and the replicas the doc describes.
func TestExampleScaledObject(t *testing.T) {
	text, err := os.ReadFile("../../specs/keda-external-scaledobject.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var so struct {
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			Triggers []struct {
				Type       string
				MetricType string `yaml:"metricType"`
				Metadata   map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(text, &so); err != nil {
		t.Fatal(err)
	}
	if len(so.Spec.Triggers) != 1 || so.Spec.Triggers[0].Type != "external" || so.Spec.Triggers[0].MetricType != "AverageValue" {
		t.Fatalf("want one external trigger with metricType AverageValue, got %+v", so.Spec.Triggers)
	}
	meta := so.Spec.Triggers[0].Metadata
	prom, url := startPrometheus(t)
	meta[KeyServerAddress] = url
	prom.set(meta[KeyQuery], vector("130"))
	prom.set(meta[KeyReplicasQuery], vector("2"))

	c, _ := serve(t, Options{})
	r := &pb.ScaledObjectRef{Name: so.Metadata.Name, Namespace: so.Metadata.Namespace, ScalerMetadata: meta}
	spec, err := c.GetMetricSpec(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	name := spec.MetricSpecs[0].MetricName
	if name != "inference-worker-replicas" || spec.MetricSpecs[0].TargetSize != 1 {
		t.Fatalf("metric spec %v", spec.MetricSpecs)
	}
	// 130 queued at 20 per replica: 7 wanted, the scale-up policy allows 2 -> 6 (4 pods a minute)
	if got := metricValue(t, c, r, name); got != 6 {
		t.Fatalf("want 6 replicas, got %g", got)
	}
	if !isActive(t, c, r) {
		t.Fatal("want active")
	}
	// asked again before the HPA has applied the 6 (2 replicas still): no flapping back to 2
	if got := metricValue(t, c, r, name); got != 6 {
		t.Fatalf("want 6 replicas still, got %g", got)
	}
}

// Threshold signals (signal.<name>) and the seed's threshold YAML through specPath.
func TestPrometheusSignals(t *testing.T) {
	const seed = "../../../testdata/seed/thresholds.yaml"
	text, err := os.ReadFile(seed)
	if err != nil {
		t.Fatal(err)
	}
	prom, url := startPrometheus(t)
	clk := newClock()
	c, _ := serve(t, Options{Now: clk.now, SpecDir: "../../../testdata/seed"})
	meta := map[string]string{KeySpecPath: "thresholds.yaml", KeyServerAddress: url, KeyReplicasQuery: "replicas"}
	hot := map[string]float64{"cpu": 82, "memory": 61, "inference_queue_depth": 4, "response_time_p95": 1.2}
	for name, v := range hot {
		meta[KeySignalPrefix+name] = name + "_query"
		prom.set(name+"_query", vector(fmt.Sprint(v)))
	}
	prom.set("replicas", vector("3"))
	got := metricValue(t, c, ref("swarm", meta), DefaultMetricName)

	specJSON, err := yamlToJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := replicast.NewScaler(specJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	st := replicast.NewState()
	defer st.Close()
	three := uint32(3)
	d, err := direct.Decide(st, replicast.DecisionInput{NowMs: start, CurrentReplicas: 3, ReadyReplicas: &three, Signals: hot})
	if err != nil {
		t.Fatal(err)
	}
	// CPU 82 % is above the seed's 70 % scale-up threshold
	if got != float64(d.Replicas) || d.Replicas <= 3 {
		t.Fatalf("metric %g, replicast %d: want a scale-up from 3", got, d.Replicas)
	}
}

// The predictive source's load (loadQuery), beside the HPA's CPU metric.
func TestPrometheusLoad(t *testing.T) {
	text, err := os.ReadFile("../../specs/predictive-slo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prom, url := startPrometheus(t)
	clk := newClock()
	c, _ := serve(t, Options{Now: clk.now})
	r := ref("web", map[string]string{KeySpec: string(text), KeyServerAddress: url,
		KeyQuery: "cpu", KeyLoadQuery: "rps", KeyReplicasQuery: "replicas"})
	specJSON, err := yamlToJSON(text)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := replicast.NewScaler(specJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	st := replicast.NewState()
	defer st.Close()
	prom.set("replicas", vector("4"))
	current, ready := uint32(4), uint32(4)
	for i, step := range []struct{ cpu, rps float64 }{{60, 150}, {90, 240}, {120, 330}, {70, 200}} {
		prom.set("cpu", vector(fmt.Sprint(step.cpu)))
		prom.set("rps", vector(fmt.Sprint(step.rps)))
		got := metricValue(t, c, r, DefaultMetricName)
		load := step.rps
		d, err := direct.Decide(st, replicast.DecisionInput{NowMs: clk.now().UnixMilli(), CurrentReplicas: current, ReadyReplicas: &ready,
			Metrics: []replicast.MetricInput{replicast.Aggregated(step.cpu, ready)}, Load: &load})
		if err != nil {
			t.Fatal(err)
		}
		if got != float64(d.Replicas) {
			t.Fatalf("step %d: metric %g, replicast %d", i, got, d.Replicas)
		}
		current = d.Replicas
		clk.advance(30 * time.Second)
	}
	prom.set("rps", `{"resultType": "vector", "result": [{"metric": {}, "value": [1700000000, "NaN"]}]}`)
	_, err = c.IsActive(context.Background(), r)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), `loadQuery: prometheus: query "rps" returned NaN`) {
		t.Fatalf("want Unavailable naming loadQuery, got %v", err)
	}
}
