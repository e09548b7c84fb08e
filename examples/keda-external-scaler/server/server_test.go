package server

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/replicast/replicast/examples/keda-external-scaler/externalscaler"
	"github.com/replicast/replicast/ffi/go/replicast"
)

// A ScaledObject (JSON) as replicast's spec: one rabbitmq-style trigger at 10 per replica,
// active above 3, to zero 60 s after the last activity; scale-up unlimited in effect.
const kedaSpec = `{
  "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
  "metadata": {"name": "worker"},
  "spec": {
    "minReplicaCount": 0, "maxReplicaCount": 50, "cooldownPeriod": 60,
    "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
      "scaleUp": {"policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}]}}}},
    "triggers": [{"type": "rabbitmq", "name": "queue",
      "metadata": {"queueName": "jobs", "value": "10", "activationValue": "3"}}]
  }
}`

// replicast's own form, in YAML: CPU at 50 % utilisation, 1 to 10 replicas.
const hpaSpecYAML = `
min_replicas: 1
max_replicas: 10
hpa:
  metrics:
    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 50}}
`

const start = int64(1_700_000_000_000)

// clock is a settable clock; step > 0 makes every read advance it (for streams).
type clock struct {
	mu   sync.Mutex
	t    time.Time
	step time.Duration
}

func newClock() *clock { return &clock{t: time.UnixMilli(start)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.t
	c.t = c.t.Add(c.step)
	return t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// serve starts the server on loopback and returns a client speaking KEDA's protocol.
func serve(t *testing.T, opts Options) (pb.ExternalScalerClient, *Server) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(opts)
	g := grpc.NewServer()
	pb.RegisterExternalScalerServer(g, s)
	go func() { _ = g.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		g.Stop()
		s.Close()
	})
	return pb.NewExternalScalerClient(conn), s
}

func ref(name string, meta map[string]string) *pb.ScaledObjectRef {
	return &pb.ScaledObjectRef{Namespace: "ai", Name: name, ScalerMetadata: meta}
}

func u32(n uint32) *uint32 { return &n }

func metricValue(t *testing.T, c pb.ExternalScalerClient, r *pb.ScaledObjectRef, name string) float64 {
	t.Helper()
	resp, err := c.GetMetrics(context.Background(), &pb.GetMetricsRequest{ScaledObjectRef: r, MetricName: name})
	if err != nil {
		t.Fatalf("GetMetrics: %v", err)
	}
	if len(resp.MetricValues) != 1 || resp.MetricValues[0].MetricName != name {
		t.Fatalf("want one value of %q, got %v", name, resp.MetricValues)
	}
	v := resp.MetricValues[0]
	if float64(v.MetricValue) != v.MetricValueFloat {
		t.Fatalf("metricValue %d and metricValueFloat %g differ", v.MetricValue, v.MetricValueFloat)
	}
	return v.MetricValueFloat
}

func isActive(t *testing.T, c pb.ExternalScalerClient, r *pb.ScaledObjectRef) bool {
	t.Helper()
	resp, err := c.IsActive(context.Background(), r)
	if err != nil {
		t.Fatalf("IsActive: %v", err)
	}
	return resp.Result
}

func TestIsActiveFollowsLoad(t *testing.T) {
	clk, push := newClock(), NewPush()
	c, _ := serve(t, Options{Now: clk.now, Push: push})
	r := ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"})
	steps := []struct {
		replicas uint32
		queue    float64
		want     bool
	}{
		{0, 0, false}, // idle at zero
		{0, 3, false}, // 3 is not above the activation value 3
		{0, 4, true},  // activation: 0 -> 1
		{1, 95, true}, // 10 replicas
		{10, 0, true}, // quiet, but within the 60 s cooldown
	}
	for i, st := range steps {
		clk.advance(15 * time.Second)
		push.Set("ai", "worker", Observation{Replicas: u32(st.replicas), Metrics: []Metric{{Value: st.queue}}})
		if got := isActive(t, c, r); got != st.want {
			t.Fatalf("step %d (queue %g at %d replicas): IsActive %v, want %v", i, st.queue, st.replicas, got, st.want)
		}
	}
	clk.advance(61 * time.Second) // cooldown over: to zero
	if isActive(t, c, r) {
		t.Fatal("still active 61 s after the last activity")
	}
}

// The metric KEDA's HPA divides by the target is replicast's decision for the same
// observations, replica for replica.
func TestGetMetricsIsReplicastsDecision(t *testing.T) {
	clk, push := newClock(), NewPush()
	c, _ := serve(t, Options{Now: clk.now, Push: push})
	const target = 3
	r := ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push", KeyTargetSize: "3", KeyMetricName: "worker-replicas"})

	direct, err := replicast.NewScaler(kedaSpec)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	st := replicast.NewState()
	defer st.Close()
	var last *uint32 // replicast's previous decision: the current count

	steps := []struct {
		obs  Observation
		want uint32
	}{
		{Observation{Replicas: u32(0), Metrics: []Metric{{Value: 2}}}, 0},
		{Observation{Replicas: u32(0), Metrics: []Metric{{Value: 4}}}, 1},
		{Observation{Metrics: []Metric{{Value: 95}}}, 10}, // no replicas observed: as many as recommended, 1
		{Observation{Replicas: u32(10), Metrics: []Metric{{Value: 130}}}, 13},
		{Observation{Replicas: u32(10), Metrics: []Metric{{Value: 200}}}, 20}, // 13 current (recommended), 10 ready: 20
		{Observation{Metrics: []Metric{{Value: 30}}}, 20},                     // scale-down stabilization holds
		{Observation{Metrics: []Metric{{Err: "broker unreachable"}}}, 20},     // a failed trigger holds
	}
	for i, step := range steps {
		clk.advance(15 * time.Second)
		push.Set("ai", "worker", step.obs)
		got := metricValue(t, c, r, "worker-replicas")

		current := uint32(1) // nothing observed before the first decision
		if last != nil {
			current = *last
		} else if step.obs.Replicas != nil {
			current = *step.obs.Replicas
		}
		ready := current
		if step.obs.Replicas != nil {
			ready = *step.obs.Replicas
		}
		in := replicast.DecisionInput{NowMs: clk.now().UnixMilli(), CurrentReplicas: current, ReadyReplicas: &ready}
		if m := step.obs.Metrics[0]; m.Err != "" {
			in.Metrics = []replicast.MetricInput{replicast.Unavailable(m.Err)}
		} else {
			in.Metrics = []replicast.MetricInput{replicast.Aggregated(m.Value, ready)}
		}
		d, err := direct.Decide(st, in)
		if err != nil {
			t.Fatalf("step %d: direct Decide: %v", i, err)
		}
		last = &d.Replicas
		if got != float64(target*d.Replicas) || d.Replicas != step.want {
			t.Fatalf("step %d: metric %g, want %d × replicast's %d replicas (expected %d)", i, got, target, d.Replicas, step.want)
		}
	}
}

func TestGetMetricSpec(t *testing.T) {
	c, _ := serve(t, Options{Push: NewPush()})
	for _, tc := range []struct {
		meta   map[string]string
		name   string
		target int64
	}{
		{map[string]string{}, DefaultMetricName, 1},
		{map[string]string{KeyMetricName: "queue-replicas", KeyTargetSize: "5"}, "queue-replicas", 5},
	} {
		tc.meta[KeySpec], tc.meta[KeySource] = kedaSpec, "push"
		resp, err := c.GetMetricSpec(context.Background(), ref("worker", tc.meta))
		if err != nil {
			t.Fatalf("GetMetricSpec: %v", err)
		}
		if len(resp.MetricSpecs) != 1 {
			t.Fatalf("want one metric spec, got %v", resp.MetricSpecs)
		}
		m := resp.MetricSpecs[0]
		if m.MetricName != tc.name || m.TargetSize != tc.target || m.TargetSizeFloat != float64(tc.target) {
			t.Fatalf("want %q with target %d, got %v", tc.name, tc.target, m)
		}
	}
	// the optional StreamMetricSpec is Unimplemented: KEDA then keeps polling GetMetricSpec
	stream, err := c.StreamMetricSpec(context.Background(), ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"}))
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("StreamMetricSpec: want Unimplemented, got %v", err)
	}
}

func TestStreamIsActivePushesFlipsAndEndsOnCancel(t *testing.T) {
	clk, push := newClock(), NewPush()
	clk.step = time.Second // each decision one second later
	c, s := serve(t, Options{Now: clk.now, Push: push, StreamInterval: 2 * time.Millisecond})
	push.Set("ai", "worker", Observation{Replicas: u32(0), Metrics: []Metric{{Value: 0}}})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := c.StreamIsActive(ctx, ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"}))
	if err != nil {
		t.Fatal(err)
	}
	recv := func(want bool) {
		t.Helper()
		resp, err := stream.Recv()
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		if resp.Result != want {
			t.Fatalf("streamed %v, want %v", resp.Result, want)
		}
	}
	recv(false) // the state when the stream opens
	push.Set("ai", "worker", Observation{Metrics: []Metric{{Value: 40}}})
	recv(true) // activation
	push.Set("ai", "worker", Observation{Metrics: []Metric{{Value: 0}}})
	recv(false) // to zero once the 60 s cooldown has passed (one second a decision)
	if at := clk.now(); at.Sub(time.UnixMilli(start)) < 60*time.Second {
		t.Fatalf("inactive after %v, before the cooldown", at.Sub(time.UnixMilli(start)))
	}

	cancel()
	if _, err := stream.Recv(); status.Code(err) != codes.Canceled {
		t.Fatalf("after cancel: want Canceled, got %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.streams.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the server's StreamIsActive did not return after the client cancelled")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBadMetadataIsInvalidArgument(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hpa.yaml"), []byte(hpaSpecYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := serve(t, Options{Push: NewPush(), SpecDir: dir})
	prom := func(extra ...string) map[string]string {
		m := map[string]string{KeySpec: hpaSpecYAML, KeyServerAddress: "http://127.0.0.1:1", KeyQuery: "up"}
		for i := 0; i < len(extra); i += 2 {
			if extra[i+1] == "" {
				delete(m, extra[i])
			} else {
				m[extra[i]] = extra[i+1]
			}
		}
		return m
	}
	for _, tc := range []struct {
		name string
		meta map[string]string
		want string
	}{
		{"missing spec", map[string]string{KeySource: "push"}, "metadata spec: missing"},
		{"malformed JSON spec", map[string]string{KeySpec: `{"min_replicas": 1,`, KeySource: "push"}, "metadata spec: replicast: invalid_config: malformed JSON spec: EOF while parsing"},
		{"malformed YAML spec", map[string]string{KeySpec: "min_replicas: [1", KeySource: "push"}, "metadata spec: malformed YAML spec"},
		{"invalid spec", map[string]string{KeySpec: `{"min_replicas": 5, "max_replicas": 2, "hpa": {"metrics": []}}`, KeySource: "push"}, "metadata spec: replicast: invalid_config: min_replicas must be <= max_replicas (2), got 5"},
		{"unknown trigger", map[string]string{KeySpec: strings.Replace(kedaSpec, `"rabbitmq"`, `"carrier-pigeon"`, 1), KeySource: "push"},
			`metadata spec: replicast: invalid_config: spec.triggers[0].type "carrier-pigeon" is not a KEDA trigger type`},
		{"unknown key", map[string]string{KeySpec: kedaSpec, KeySource: "push", "treshold": "3"}, "metadata treshold: unknown key"},
		{"spec and specPath", map[string]string{KeySpec: kedaSpec, KeySpecPath: "hpa.yaml"}, "metadata spec and specPath: give one"},
		{"specPath outside", prom(KeySpec, "", KeySpecPath, "../hpa.yaml"), `metadata specPath "../hpa.yaml": want a relative path`},
		{"specPath missing", prom(KeySpec, "", KeySpecPath, "nope.yaml"), `metadata specPath "nope.yaml": no such file`},
		{"targetSize zero", map[string]string{KeySpec: kedaSpec, KeySource: "push", KeyTargetSize: "0"}, "metadata targetSize: want an integer"},
		{"targetSize fraction", map[string]string{KeySpec: kedaSpec, KeySource: "push", KeyTargetSize: "1.5"}, "metadata targetSize: want an integer"},
		{"unknown source", map[string]string{KeySpec: kedaSpec, KeySource: "carrier-pigeon"}, `metadata source: unknown source "carrier-pigeon"`},
		{"no serverAddress", prom(KeyServerAddress, ""), "metadata serverAddress: missing"},
		{"bad serverAddress", prom(KeyServerAddress, "prometheus:9090"), "metadata serverAddress: want an http(s) URL"},
		{"no query", prom(KeyQuery, ""), "metadata query: missing"},
		{"too many queries", prom(KeyQuery, "", "query.0", "up", "query.1", "up"), "metadata query.1: the spec has one metric (give query)"},
		{"empty query", prom(KeyQuery, " "), "metadata query: empty query"},
		{"prometheus key with push", map[string]string{KeySpec: kedaSpec, KeySource: "push", KeyQuery: "up"}, "metadata query: a Prometheus key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.IsActive(context.Background(), ref("bad", tc.meta))
			t.Log(status.Convert(err).Message())
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
				t.Fatalf("want InvalidArgument with %q, got %v", tc.want, err)
			}
			if !strings.HasPrefix(status.Convert(err).Message(), "ai/bad: metadata ") {
				t.Fatalf("the message should name the object and the metadata: %v", err)
			}
		})
	}
	t.Run("specPath YAML works", func(t *testing.T) {
		_, err := c.GetMetricSpec(context.Background(), ref("good", prom(KeySpec, "", KeySpecPath, "hpa.yaml")))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no name", func(t *testing.T) {
		_, err := c.GetMetricSpec(context.Background(), &pb.ScaledObjectRef{Namespace: "ai"})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "scaledObjectRef.name: empty") {
			t.Fatalf("want InvalidArgument naming scaledObjectRef.name, got %v", err)
		}
	})
	t.Run("wrong metric name", func(t *testing.T) {
		_, err := c.GetMetrics(context.Background(), &pb.GetMetricsRequest{
			ScaledObjectRef: ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"}), MetricName: "cpu"})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), `metricName: "cpu" is not served`) {
			t.Fatalf("want InvalidArgument naming metricName, got %v", err)
		}
	})
	t.Run("push disabled", func(t *testing.T) {
		c, _ := serve(t, Options{})
		_, err := c.IsActive(context.Background(), ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"}))
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "metadata source: push is not enabled") {
			t.Fatalf("want InvalidArgument naming source, got %v", err)
		}
	})
}

func TestNothingPushedIsUnavailable(t *testing.T) {
	c, _ := serve(t, Options{Push: NewPush()})
	_, err := c.IsActive(context.Background(), ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"}))
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "nothing pushed for ai/worker") {
		t.Fatalf("want Unavailable, got %v", err)
	}
}

// Changed metadata is a new configuration: a new scaler and a fresh state.
func TestChangedMetadataRebuilds(t *testing.T) {
	clk, push := newClock(), NewPush()
	c, _ := serve(t, Options{Now: clk.now, Push: push})
	meta := map[string]string{KeySpec: kedaSpec, KeySource: "push"}
	push.Set("ai", "worker", Observation{Replicas: u32(1), Metrics: []Metric{{Value: 95}}})
	if got := metricValue(t, c, ref("worker", meta), DefaultMetricName); got != 10 {
		t.Fatalf("want 10 replicas, got %g", got)
	}
	meta[KeySpec] = strings.Replace(kedaSpec, `"value": "10"`, `"value": "5"`, 1)
	clk.advance(15 * time.Second)
	if got := metricValue(t, c, ref("worker", meta), DefaultMetricName); got != 19 {
		t.Fatalf("want ceil(95 / 5) = 19 replicas with the new threshold, got %g", got)
	}
}

func TestMinIntervalServesTheLastDecision(t *testing.T) {
	clk, push := newClock(), NewPush()
	c, _ := serve(t, Options{Now: clk.now, Push: push, MinInterval: 5 * time.Second})
	r := ref("worker", map[string]string{KeySpec: kedaSpec, KeySource: "push"})
	push.Set("ai", "worker", Observation{Replicas: u32(1), Metrics: []Metric{{Value: 95}}})
	if got := metricValue(t, c, r, DefaultMetricName); got != 10 {
		t.Fatalf("want 10, got %g", got)
	}
	push.Set("ai", "worker", Observation{Replicas: u32(10), Metrics: []Metric{{Value: 200}}})
	clk.advance(4 * time.Second)
	if got := metricValue(t, c, r, DefaultMetricName); got != 10 {
		t.Fatalf("within MinInterval: want the last decision 10, got %g", got)
	}
	clk.advance(time.Second)
	if got := metricValue(t, c, r, DefaultMetricName); got != 20 {
		t.Fatalf("after MinInterval: want 20, got %g", got)
	}
}

// Many ScaledObjects asked at once (run with -race): each keeps its own state.
func TestConcurrentObjects(t *testing.T) {
	push := NewPush()
	c, _ := serve(t, Options{Push: push})
	const objects, callers, calls = 4, 3, 10
	for i := range objects {
		push.Set("ai", fmt.Sprint("w", i), Observation{Metrics: []Metric{{Value: float64(10 * (i + 2))}}})
	}
	var wg sync.WaitGroup
	errs := make(chan error, objects*callers)
	for i := range objects * callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obj := i % objects
			r := ref(fmt.Sprint("w", obj), map[string]string{KeySpec: kedaSpec, KeySource: "push"})
			for range calls {
				resp, err := c.GetMetrics(context.Background(), &pb.GetMetricsRequest{ScaledObjectRef: r, MetricName: DefaultMetricName})
				if err != nil {
					errs <- err
					return
				}
				// 10(i+2) at 10 per replica: i+2 (from the assumed 1 replica first, then steady)
				if got := resp.MetricValues[0].MetricValue; got != int64(obj+2) {
					errs <- fmt.Errorf("w%d: got %d, want %d", obj, got, obj+2)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
