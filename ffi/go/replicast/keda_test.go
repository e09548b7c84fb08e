package replicast

import (
	"strings"
	"testing"
)

// A ScaledObject manifest (JSON) through the Go package: the same spec, inputs and decision
// as the Rust test a_scaled_object_manifest_loads_as_written.
const scaledObject = `{
  "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
  "metadata": {"name": "worker"},
  "spec": {
    "minReplicaCount": 0, "maxReplicaCount": 50, "cooldownPeriod": 60,
    "fallback": {"failureThreshold": 2, "replicas": 8},
    "advanced": {"horizontalPodAutoscalerConfig": {"behavior": {
      "scaleUp": {"policies": [{"type": "Pods", "value": 100, "periodSeconds": 15}]}}}},
    "triggers": [{"type": "rabbitmq", "name": "queue",
      "metadata": {"queueName": "jobs", "value": "10", "activationValue": "3"}}]
  }
}`

func kedaInput(at int64, current uint32, m MetricInput) DecisionInput {
	ready := current
	return DecisionInput{
		NowMs: now + at*1000, CurrentReplicas: current, ReadyReplicas: &ready,
		Metrics: []MetricInput{m},
	}
}

func TestKedaActivationFallbackAndCooldown(t *testing.T) {
	s := mustScaler(t, scaledObject)
	st := NewState()
	defer st.Close()
	step := func(at int64, current uint32, m MetricInput) Decision {
		t.Helper()
		d, err := s.Decide(st, kedaInput(at, current, m))
		if err != nil {
			t.Fatalf("Decide at %ds: %v", at, err)
		}
		if d.Keda == nil {
			t.Fatalf("no keda status at %ds", at)
		}
		return d
	}
	// 3 is not above the activation value 3: stays at zero
	if d := step(0, 0, Aggregated(3, 0)); d.Replicas != 0 || d.Keda.Active {
		t.Fatalf("want inactive at 0, got %d active=%v", d.Replicas, d.Keda.Active)
	}
	// 4 activates: 0 -> 1 by the activation stage
	d := step(15, 0, Aggregated(4, 0))
	if d.Replicas != 1 || d.Steps[len(d.Steps)-1].Stage != "activation" {
		t.Fatalf("want activation to 1, got %+v", d)
	}
	// 95 messages at 10 per replica: ceil(9.5) = 10
	if d := step(30, 1, Aggregated(95, 1)); d.Replicas != 10 || d.Proposals[0].Source != "keda" {
		t.Fatalf("want 10 from the keda proposal, got %+v", d)
	}
	// two failures hold, the third serves the static fallback of 8 replicas
	fail := Unavailable("broker unreachable")
	for i, at := range []int64{45, 60} {
		if d := step(at, 10, fail); d.Replicas != 10 || !d.Keda.Error {
			t.Fatalf("failure %d: want a hold with an error, got %+v", i+1, d)
		}
	}
	d = step(75, 10, fail)
	if !d.Keda.Fallback || d.Keda.Triggers[0].Failures != 3 {
		t.Fatalf("want fallback after 3 failures, got %+v", d.Keda)
	}
	// the legacy-free behavior given only scales up; 8 < 10 is held by the 300 s window
	if d.Proposals[0].Replicas == nil || *d.Proposals[0].Replicas != 8 {
		t.Fatalf("want a fallback proposal of 8, got %+v", d.Proposals[0])
	}
	// quiet from 90 s: to zero once 60 s have passed since the last activity (75 s)
	if d := step(90, 10, Aggregated(0, 10)); d.Replicas == 0 {
		t.Fatalf("scaled to zero before the cooldown: %+v", d)
	}
	if d := step(136, 10, Aggregated(0, 10)); d.Replicas != 0 {
		t.Fatalf("want zero after the cooldown, got %+v", d)
	}
}

func TestKedaUnknownTriggerTypeIsAConfigError(t *testing.T) {
	bad := strings.Replace(scaledObject, `"rabbitmq"`, `"carrier-pigeon"`, 1)
	_, err := NewScaler(bad)
	if err == nil || !strings.Contains(err.Error(), `"carrier-pigeon" is not a KEDA trigger type`) {
		t.Fatalf("want a named config error, got %v", err)
	}
}
