//! The VPA's public API: manifests, checkpoints (good and bad), observation validation, the
//! admission-time limits and the updater verdict.

use std::collections::BTreeMap;
use std::path::PathBuf;

use replicast::ErrorKind;
use replicast::vpa::checkpoint::CheckpointStatus;
use replicast::vpa::{
    ContainerResources, ContainerUsage, ControlledValues, Resources, ScalingMode, UpdateMode,
    UpdateVerdict, UpdaterConfig, VerticalPodAutoscalerCheckpoint, Vpa, VpaSpec, VpaState,
};

const T0: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn seed_yaml() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/seed/vpa.yaml");
    std::fs::read_to_string(path).unwrap()
}

fn steady(vpa: &Vpa, containers: &[&str], minutes: i64) -> VpaState {
    let mut state = VpaState::new();
    for m in 0..minutes {
        for c in containers {
            let t = T0 + m * MINUTE;
            assert!(state.add_cpu_sample(vpa, c, "", t, 500).unwrap());
            assert!(state.add_memory_sample(vpa, c, "", t, 500 << 20).unwrap());
        }
    }
    state
}

#[test]
fn seed_manifest_loads_as_it_is() {
    let spec = VpaSpec::from_yaml(&seed_yaml()).unwrap();
    assert_eq!(spec.update_mode, UpdateMode::Auto);
    assert_eq!(spec.container_policies.len(), 1);
    let p = &spec.container_policies[0];
    assert_eq!(p.container_name, "sutazai-backend");
    assert_eq!(p.mode, ScalingMode::Auto);
    assert_eq!(p.controlled_values, ControlledValues::RequestsAndLimits);
    assert_eq!(p.min_allowed, Resources::new(1000, 2 << 30));
    assert_eq!(p.max_allowed, Resources::new(8000, 16 << 30));
    // the recommender defaults fill in the rest
    assert_eq!(spec.recommender.target_cpu_percentile, 0.9);
    assert_eq!(spec.updater.min_replicas, 2);
    // replicast's own form round-trips
    assert_eq!(VpaSpec::from_json(&spec.to_json()).unwrap(), spec);

    // and recommends within its bounds
    let vpa = Vpa::new(spec).unwrap();
    let state = steady(&vpa, &["sutazai-backend"], 60);
    let rec = vpa.recommend(&state, T0 + 60 * MINUTE, &[]).unwrap();
    let c = rec.container("sutazai-backend").unwrap();
    assert_eq!(
        c.target,
        Resources::new(1000, 2 << 30),
        "raised to minAllowed"
    );
    assert_eq!(c.uncapped_target, Resources::new(587, 628_694_953));
    // 1 h of history: upper bound ×(1 + 1/0.041); CPU 14913m capped to maxAllowed 8
    assert_eq!(c.upper_bound, Resources::new(8000, 15_973_114_144));
    assert!(
        c.reasons
            .iter()
            .any(|r| r == "cpu capped to minAllowed (1000m)"),
        "{:?}",
        c.reasons
    );
}

#[test]
fn manifest_fields_and_defaults() {
    let spec = VpaSpec::from_yaml(
        r#"
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: web
  annotations:
    vpa-post-processor.kubernetes.io/app_integerCPU: "true"
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  updatePolicy: {minReplicas: 3, evictAfterOOMSeconds: 120}
  resourcePolicy:
    containerPolicies:
      - containerName: "*"
        controlledResources: [memory]
        controlledValues: RequestsOnly
      - containerName: app
        mode: "Off"
        oomBumpUpRatio: "1.5"
        oomMinBumpUp: 200Mi
        memoryAggregationIntervalSeconds: 3600
        memoryAggregationIntervalCount: 48
"#,
    )
    .unwrap();
    assert_eq!(spec.update_mode, UpdateMode::Recreate, "the API default");
    assert_eq!(spec.updater.min_replicas, 3);
    assert_eq!(spec.updater.evict_after_oom_threshold_s, 120);
    assert_eq!(
        spec.recommender.integer_cpu_containers,
        vec!["app".to_owned()]
    );
    let star = spec.policy_for("sidecar").unwrap();
    assert_eq!(star.controlled_values, ControlledValues::RequestsOnly);
    let app = spec.policy_for("app").unwrap();
    assert_eq!(app.mode, ScalingMode::Off);
    assert_eq!(app.oom_bump_up_ratio, Some(1.5));
    assert_eq!(app.oom_min_bump_up_bytes, Some(209_715_200.0));
    assert_eq!(app.memory_aggregation_interval_s, Some(3600));
    assert_eq!(app.memory_aggregation_interval_count, Some(48));
}

#[test]
fn bad_manifests_name_the_field() {
    let base = seed_yaml();
    let cases = [
        (
            base.replace("\"Auto\"", "Sometimes"),
            "spec.updatePolicy.updateMode",
        ),
        (
            base.replace("\"2Gi\"", "two gigs"),
            "spec.resourcePolicy.containerPolicies[0].minAllowed.memory",
        ),
        (
            base.replace("cpu: \"8\"", "cpu: \"-8\""),
            "spec.resourcePolicy.containerPolicies[0].maxAllowed.cpu",
        ),
        (base.replace("cpu: \"1\"", "cpu: \"9\""), "min_allowed"),
        (
            base.replace("autoscaling.k8s.io/v1", "autoscaling.k8s.io/v1beta1"),
            "apiVersion",
        ),
    ];
    for (text, field) in cases {
        let err = VpaSpec::from_yaml(&text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{err}");
        assert!(err.message().contains(field), "{field} not in {err}");
    }
    let err = VpaSpec::from_json(r#"{"recommender": {"target_cpu_percentile": 1.5}}"#).unwrap_err();
    assert!(
        err.message()
            .contains("recommender.target_cpu_percentile must be in [0, 1], got 1.5")
    );
    let err = VpaSpec::from_json(r#"{"bogus": 1}"#).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    assert!(err.message().contains("bogus"));
}

fn good_status() -> CheckpointStatus {
    serde_json::from_str(
        r#"{
        "lastUpdateTime": "2024-01-09T00:00:00Z",
        "version": "v3",
        "cpuHistogram": {"referenceTimestamp": "2024-01-02T00:00:00Z", "bucketWeights": {"25": 10000, "26": 5000}, "totalWeight": 144.0},
        "memoryHistogram": {"referenceTimestamp": "2024-01-02T00:00:00Z", "bucketWeights": {"26": 10000}, "totalWeight": 8.0},
        "firstSampleStart": "2024-01-01T00:00:00Z",
        "lastSampleStart": "2024-01-08T23:59:00Z",
        "totalSamplesCount": 11520
    }"#,
    )
    .unwrap()
}

#[test]
fn seeds_from_a_real_checkpoint_object() {
    let object = format!(
        r#"{{"apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscalerCheckpoint",
            "metadata": {{"name": "web-app", "namespace": "default", "resourceVersion": "42"}},
            "spec": {{"vpaObjectName": "web", "containerName": "app"}},
            "status": {}}}"#,
        serde_json::to_string(&good_status()).unwrap()
    );
    let cp = VerticalPodAutoscalerCheckpoint::from_text(&object).unwrap();
    assert_eq!(cp.spec.container_name, "app");
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let now = T0 + 8 * DAY;
    let checkpoints = BTreeMap::from([(cp.spec.container_name.clone(), cp.status.clone())]);
    let state = VpaState::from_checkpoints(&vpa, &checkpoints, now).unwrap();
    let rec = vpa.recommend(&state, now, &[]).unwrap();
    let app = rec.container("app").unwrap();
    // p90 of {bucket 25: 2/3, bucket 26: 1/3} is bucket 26's end: 0.5467 cores → 546 + 15 %
    assert_eq!(app.target.cpu_millicores, Some(546 + 81));
    assert_eq!(app.target.memory_bytes, Some(628_694_953));
    // save → load → save is identical
    let saved = state.to_checkpoints(now);
    let again = VpaState::from_checkpoints(&vpa, &saved, now)
        .unwrap()
        .to_checkpoints(now);
    assert_eq!(saved, again);
    assert_eq!(
        saved["app"].cpu_histogram.bucket_weights,
        cp.status.cpu_histogram.bucket_weights
    );
}

#[test]
fn bad_checkpoints_are_serialization_errors() {
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let mut cases: Vec<(CheckpointStatus, &str)> = Vec::new();
    let mut s = good_status();
    s.version = "v2".into();
    cases.push((s, "unsupported checkpoint version \"v2\""));
    let mut s = good_status();
    s.cpu_histogram.bucket_weights.insert(30, -5);
    cases.push((
        s,
        "cpuHistogram.bucketWeights[30] must be in [0, 4294967295], got -5",
    ));
    let mut s = good_status();
    s.memory_histogram.total_weight = -1.0;
    cases.push((
        s,
        "memoryHistogram.totalWeight must be a finite number >= 0, got -1",
    ));
    let mut s = good_status();
    s.cpu_histogram.bucket_weights.insert(176, 1);
    cases.push((
        s,
        "cpuHistogram.bucketWeights has bucket 176, valid buckets are 0..=175",
    ));
    let mut s = good_status();
    s.memory_histogram.bucket_weights.insert(-1, 1);
    cases.push((s, "memoryHistogram.bucketWeights has bucket -1"));
    let mut s = good_status();
    s.total_samples_count = -3;
    cases.push((s, "totalSamplesCount must be >= 0, got -3"));
    for (status, message) in cases {
        let mut state = VpaState::new();
        let err = state.load_checkpoint(&vpa, "app", &status, T0).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Serialization, "{err}");
        assert!(err.message().contains(message), "{message:?} not in {err}");
        assert!(
            err.message().contains("\"app\""),
            "names the container: {err}"
        );
        assert!(state.containers().is_empty(), "state unchanged on error");
    }
    let err = VerticalPodAutoscalerCheckpoint::from_text("{\"kind\": \"Pod\"}").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization);
    let err: serde_json::Error = serde_json::from_str::<CheckpointStatus>(
        r#"{"version": "v3", "firstSampleStart": "yesterday"}"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("RFC 3339"));
}

#[test]
fn observations_validate_and_report_discards() {
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let mut state = VpaState::new();
    let usage = |cpu: f64| {
        [ContainerUsage {
            container: "app".into(),
            cpu_cores: Some(cpu),
            memory_bytes: Some(1e9),
            ..ContainerUsage::default()
        }]
    };
    let first = state.observe(&vpa, T0, &usage(0.25)).unwrap();
    assert_eq!(first[0].cpu, Some(true));
    assert_eq!(first[0].memory, Some(true));
    assert_eq!(first[0].oom, None);
    // same time again: CPU is a duplicate (discarded), memory at the same time is accepted
    let again = state.observe(&vpa, T0, &usage(0.25)).unwrap();
    assert_eq!((again[0].cpu, again[0].memory), (Some(false), Some(true)));
    // negative usage is discarded, not an error
    let neg = state.observe(&vpa, T0 + MINUTE, &usage(-1.0)).unwrap();
    assert_eq!(neg[0].cpu, Some(false));
    let before = state.clone();
    for bad in [f64::NAN, f64::INFINITY] {
        let err = state
            .observe(&vpa, T0 + 2 * MINUTE, &usage(bad))
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("usage[0].cpu_cores"), "{err}");
    }
    let err = state
        .add_cpu_sample(&vpa, "app", "", i64::MAX, 5)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let err = state.add_cpu_sample(&vpa, "", "", T0, 5).unwrap_err();
    assert!(err.message().contains("container name"));
    assert_eq!(state, before, "errors leave the state unchanged");
}

#[test]
fn oom_bumps_memory_and_stale_ooms_are_dropped() {
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let mut state = steady(&vpa, &["app"], 60);
    assert!(
        state
            .record_oom(&vpa, "app", "", T0 + 61 * MINUTE, 600 << 20)
            .unwrap()
    );
    let rec = vpa.recommend(&state, T0 + 61 * MINUTE, &[]).unwrap();
    // max(600 MiB + 100 MiB, 600 MiB × 1.2 = 720 MiB) = 754974720 B → its bucket's end + 15 %
    assert!(rec.containers[0].target.memory_bytes.unwrap() > 720 << 20);
    assert!(
        !state
            .record_oom(&vpa, "app", "", T0 - 2 * DAY, 600 << 20)
            .unwrap(),
        "stale"
    );
}

#[test]
fn limits_and_updater_verdict() {
    let mut spec = VpaSpec::default();
    let mut only = replicast::vpa::ContainerPolicy::new("sidecar");
    only.controlled_values = ControlledValues::RequestsOnly;
    spec.container_policies.push(only);
    let vpa = Vpa::new(spec).unwrap();
    let state = steady(&vpa, &["app", "sidecar"], 8 * 1440);
    let current = [
        ContainerResources {
            container: "app".into(),
            requests: Resources::new(1000, 1 << 30),
            limits: Resources::new(2000, 3 << 29),
            ..ContainerResources::default()
        },
        ContainerResources {
            container: "sidecar".into(),
            requests: Resources::new(100, 100 << 20),
            limits: Resources::new(200, 400 << 20),
            ..ContainerResources::default()
        },
    ];
    let now = T0 + 8 * DAY;
    let rec = vpa.recommend(&state, now, &current).unwrap();
    let app = rec.container("app").unwrap();
    assert_eq!(app.requests, Resources::new(587, 628_694_953));
    // limits keep the ratios 2 and 1.5: floor(2000 × 587 / 1000), floor(1.5 GiB × target / 1 GiB)
    assert_eq!(app.limits, Resources::new(1174, 943_042_429));
    let sidecar = rec.container("sidecar").unwrap();
    assert_eq!(
        sidecar.requests,
        Resources::new(200, 419_430_400),
        "capped to the limits"
    );
    assert_eq!(
        sidecar.limits,
        Resources::default(),
        "RequestsOnly leaves limits alone"
    );
    assert!(
        sidecar
            .annotations
            .contains(&"cpu capped to container limit".to_owned())
    );
    let update = rec.update.unwrap();
    assert!(update.scale_up && update.outside_recommended_range);
    let config = UpdaterConfig::default();
    assert_eq!(
        update.verdict(&config, now, Some(now), false),
        UpdateVerdict::OutsideRecommendedRange
    );
    assert!(update.verdict(&config, now, None, false).should_update());

    // in range and young: leave it; old: update when the change is big enough
    let in_range = replicast::vpa::UpdatePriority {
        outside_recommended_range: false,
        scale_up: false,
        resource_diff: 0.05,
    };
    assert_eq!(
        in_range.verdict(&config, now, Some(now - 3_600_000), false),
        UpdateVerdict::PodTooYoung
    );
    assert_eq!(
        in_range.verdict(&config, now, Some(now - DAY), false),
        UpdateVerdict::ChangeTooSmall
    );
    assert_eq!(
        in_range.verdict(&config, now, Some(now - DAY), true),
        UpdateVerdict::QuickOom
    );
}

#[test]
fn gc_drops_expired_containers_and_mode_off_is_skipped() {
    let mut spec = VpaSpec::default();
    let mut off = replicast::vpa::ContainerPolicy::new("off");
    off.mode = ScalingMode::Off;
    spec.container_policies.push(off);
    let vpa = Vpa::new(spec).unwrap();
    let mut state = steady(&vpa, &["app", "off"], 10);
    let last = T0 + 9 * MINUTE;
    let rec = vpa.recommend(&state, last, &[]).unwrap();
    assert_eq!(rec.containers.len(), 1, "mode Off has no recommendation");
    // the per-pod minimum is split over the autoscaled containers only
    assert_eq!(rec.containers[0].target.memory_bytes, Some(628_694_953));
    assert!(state.gc(&vpa, last + 7 * DAY).is_empty());
    assert_eq!(
        vpa.recommend(&state, last + 8 * DAY, &[])
            .unwrap()
            .containers
            .len(),
        0
    );
    assert_eq!(
        state.gc(&vpa, last + 8 * DAY),
        vec!["app".to_owned(), "off".to_owned()]
    );
    assert!(state.containers().is_empty());
}

#[test]
fn state_json_round_trips_exactly() {
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let mut state = steady(&vpa, &["app", "db"], 300);
    state
        .record_oom(&vpa, "db", "", T0 + 301 * MINUTE, 300 << 20)
        .unwrap();
    let json = state.to_json();
    let back = VpaState::from_json(&json).unwrap();
    assert_eq!(back, state);
    assert_eq!(back.to_json(), json);
    let err = VpaState::from_json(&json.replacen("\"version\":1", "\"version\":9", 1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Serialization);
    assert!(err.message().contains("version"), "{err}");
    // a state from another histogram scheme is refused, not misread
    let mut other = VpaSpec::default();
    other.recommender.cpu_histogram_decay_half_life_s = 3600;
    let other = Vpa::new(other).unwrap();
    assert_eq!(
        other.recommend(&state, T0, &[]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}
