// Package server is a KEDA external scaler (KEDA's externalscaler.proto over gRPC) that serves
// replicast's recommendation as the metric: GetMetricSpec asks for targetSize per replica,
// GetMetrics answers replicas × targetSize, so the HPA KEDA generates (an External metric with
// an AverageValue target: desired = ceil(value / target)) lands on replicast's replica count;
// IsActive is "recommends at least one replica".
//
// Each ScaledObject (namespace/name) gets its own replicast scaler, built from its trigger
// metadata, and its own state, kept in memory. Decisions read the server's clock and the
// observations of the source the metadata names: a Prometheus HTTP API (instant queries) or
// an in-process [Push] source.
package server

import (
	"context"
	"errors"
	"fmt"
	"log"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/replicast/replicast/examples/keda-external-scaler/externalscaler"
	"github.com/replicast/replicast/ffi/go/replicast"
)

// Options configure a [Server]; the zero value is usable.
type Options struct {
	// Now is the clock decisions read (default time.Now).
	Now func() time.Time
	// MinInterval: a call within MinInterval of an object's last decision gets that decision
	// again instead of a new one (KEDA asks GetMetrics and IsActive back to back each poll).
	// 0 decides on every call.
	MinInterval time.Duration
	// StreamInterval is how often StreamIsActive decides (default 5 s).
	StreamInterval time.Duration
	// SpecDir is the directory specPath is read from; empty refuses specPath.
	SpecDir string
	// HTTPClient queries Prometheus (default: a client with a 10 s timeout).
	HTTPClient *http.Client
	// Push, when not nil, enables the metadata "source: push".
	Push *Push
	// Log, when not nil, gets one line per decision and per configuration.
	Log *log.Logger
}

// Server implements KEDA's ExternalScaler service. Safe for concurrent use.
type Server struct {
	pb.UnimplementedExternalScalerServer // StreamMetricSpec: Unimplemented, KEDA then polls GetMetricSpec
	opts                                 Options

	mu      sync.Mutex
	objects map[objectKey]*object

	streams atomic.Int64 // StreamIsActive calls running (tests)
}

var _ pb.ExternalScalerServer = (*Server)(nil)

// New is a server with opts.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.StreamInterval <= 0 {
		opts.StreamInterval = 5 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Server{opts: opts, objects: map[objectKey]*object{}}
}

// Close frees every object's scaler and state; call it after the gRPC server has stopped.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.objects {
		o.mu.Lock()
		o.reset()
		o.mu.Unlock()
	}
	clear(s.objects)
}

type objectKey struct{ namespace, name string }

func (k objectKey) String() string { return k.namespace + "/" + k.name }

// object is one ScaledObject: its configuration, its replicast state and its last decision.
type object struct {
	key objectKey

	mu          sync.Mutex
	fingerprint string // the metadata cfg was built from
	cfg         *config
	state       *replicast.State
	last        *outcome
}

// outcome is a decision as the server serves it.
type outcome struct {
	at       time.Time
	replicas uint32
}

func (o *object) reset() {
	if o.cfg != nil {
		o.cfg.scaler.Close()
		o.state.Close()
	}
	o.cfg, o.state, o.last, o.fingerprint = nil, nil, nil, ""
}

func fingerprint(meta map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(meta)) {
		fmt.Fprintf(&b, "%q=%q;", k, meta[k])
	}
	return b.String()
}

// object returns ref's object, configured from its metadata (rebuilt when the metadata
// changed: a new scaler and a fresh state), locked: the caller unlocks it.
func (s *Server) object(ref *pb.ScaledObjectRef) (*object, error) {
	if ref == nil {
		return nil, status.Error(codes.InvalidArgument, "scaledObjectRef: missing")
	}
	if ref.Name == "" {
		return nil, status.Error(codes.InvalidArgument, "scaledObjectRef.name: empty")
	}
	key := objectKey{ref.Namespace, ref.Name}
	s.mu.Lock()
	o, ok := s.objects[key]
	if !ok {
		o = &object{key: key}
		s.objects[key] = o
	}
	s.mu.Unlock()

	o.mu.Lock()
	fp := fingerprint(ref.ScalerMetadata)
	if o.cfg != nil && fp == o.fingerprint {
		return o, nil
	}
	cfg, err := s.parseConfig(key, ref.ScalerMetadata)
	if err != nil {
		o.mu.Unlock()
		return nil, status.Errorf(codes.InvalidArgument, "%s: %s", key, status.Convert(err).Message())
	}
	o.reset()
	o.cfg, o.state, o.fingerprint = cfg, replicast.NewState(), fp
	s.logf("%s: configured, metric %q target %d", key, cfg.metricName, cfg.targetSize)
	return o, nil
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Log != nil {
		s.opts.Log.Printf(format, args...)
	}
}

// decide returns ref's recommendation now (or its last one, within MinInterval).
func (s *Server) decide(ctx context.Context, ref *pb.ScaledObjectRef) (outcome, error) {
	o, err := s.object(ref)
	if err != nil {
		return outcome{}, err
	}
	defer o.mu.Unlock()
	return s.decideLocked(ctx, o)
}

// decideLocked is decide for an object the caller has locked.
func (s *Server) decideLocked(ctx context.Context, o *object) (outcome, error) {
	now := s.opts.Now()
	if o.last != nil {
		if now.Before(o.last.at) {
			now = o.last.at // a clock that stepped back: replicast's time must not
		}
		if now.Sub(o.last.at) < s.opts.MinInterval {
			return *o.last, nil
		}
	}
	obs, err := o.cfg.source.observe(ctx, now)
	if err != nil {
		return outcome{}, status.Errorf(codes.Unavailable, "%s: observing: %v", o.key, err)
	}
	d, err := o.cfg.scaler.Decide(o.state, o.input(now, obs))
	if err != nil {
		code := codes.Internal
		if errors.Is(err, replicast.ErrInvalidInput) {
			code = codes.FailedPrecondition // observations that do not fit the spec
		}
		return outcome{}, status.Errorf(code, "%s: replicast: %v", o.key, err)
	}
	o.last = &outcome{at: now, replicas: d.Replicas}
	s.logf("%s: %d -> %d replicas%s", o.key, d.CurrentReplicas, d.Replicas, summary(d))
	return *o.last, nil
}

// input is the replicast input of obs at now. The current replicas are replicast's previous
// recommendation, which KEDA's HPA applies at its next sync: replicast's rate limits and
// windows count its own recommendations as scale events, so the current count must be the one
// they describe, not a lagging observation of it. The observed replicas are the pods the
// metrics were measured over (the HPA's ready pods), and the current count before the first
// decision.
func (o *object) input(now time.Time, obs Observation) replicast.DecisionInput {
	current := uint32(1) // before the first decision, when nothing is observed
	if o.last != nil {
		current = o.last.replicas
	} else if obs.Replicas != nil {
		current = *obs.Replicas
	}
	ready := current
	if obs.Replicas != nil {
		ready = *obs.Replicas
	}
	in := replicast.DecisionInput{
		NowMs: now.UnixMilli(), CurrentReplicas: current, ReadyReplicas: &ready,
		Load: obs.Load, Signals: obs.Signals,
	}
	for _, m := range obs.Metrics {
		if m.Err != "" {
			in.Metrics = append(in.Metrics, replicast.Unavailable(m.Err))
		} else {
			in.Metrics = append(in.Metrics, replicast.Aggregated(m.Value, ready))
		}
	}
	return in
}

func summary(d replicast.Decision) string {
	var b strings.Builder
	for _, p := range d.Proposals {
		fmt.Fprintf(&b, "; %s %s: %s", p.Source, p.Name, p.Reason)
	}
	for _, st := range d.Steps {
		fmt.Fprintf(&b, "; %s %d -> %d: %s", st.Stage, st.From, st.To, st.Reason)
	}
	for _, e := range d.Errors {
		fmt.Fprintf(&b, "; error: %s", e)
	}
	return b.String()
}

// IsActive is true when replicast recommends at least one replica.
func (s *Server) IsActive(ctx context.Context, ref *pb.ScaledObjectRef) (*pb.IsActiveResponse, error) {
	out, err := s.decide(ctx, ref)
	if err != nil {
		return nil, err
	}
	return &pb.IsActiveResponse{Result: out.replicas > 0}, nil
}

// StreamIsActive decides every StreamInterval and sends the activity first and then each time
// it flips; it ends when the client cancels, or with the first error (KEDA reconnects).
func (s *Server) StreamIsActive(ref *pb.ScaledObjectRef, stream pb.ExternalScaler_StreamIsActiveServer) error {
	s.streams.Add(1)
	defer s.streams.Add(-1)
	ctx := stream.Context()
	tick := time.NewTicker(s.opts.StreamInterval)
	defer tick.Stop()
	sent, active := false, false
	for {
		out, err := s.decide(ctx, ref)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if now := out.replicas > 0; !sent || now != active {
			if err := stream.Send(&pb.IsActiveResponse{Result: now}); err != nil {
				return err
			}
			sent, active = true, now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// GetMetricSpec is one metric: the configured name and targetSize (per replica).
func (s *Server) GetMetricSpec(_ context.Context, ref *pb.ScaledObjectRef) (*pb.GetMetricSpecResponse, error) {
	o, err := s.object(ref)
	if err != nil {
		return nil, err
	}
	defer o.mu.Unlock()
	return &pb.GetMetricSpecResponse{MetricSpecs: []*pb.MetricSpec{{
		MetricName: o.cfg.metricName, TargetSize: o.cfg.targetSize, TargetSizeFloat: float64(o.cfg.targetSize),
	}}}, nil
}

// GetMetrics is replicast's recommendation × targetSize.
func (s *Server) GetMetrics(ctx context.Context, req *pb.GetMetricsRequest) (*pb.GetMetricsResponse, error) {
	o, err := s.object(req.GetScaledObjectRef())
	if err != nil {
		return nil, err
	}
	defer o.mu.Unlock()
	if req.MetricName != o.cfg.metricName {
		return nil, status.Errorf(codes.InvalidArgument, "%s: metricName: %q is not served (GetMetricSpec names %q)",
			o.key, req.MetricName, o.cfg.metricName)
	}
	out, err := s.decideLocked(ctx, o)
	if err != nil {
		return nil, err
	}
	v := int64(out.replicas) * o.cfg.targetSize
	return &pb.GetMetricsResponse{MetricValues: []*pb.MetricValue{{
		MetricName: o.cfg.metricName, MetricValue: v, MetricValueFloat: float64(v),
	}}}, nil
}
