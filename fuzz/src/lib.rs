//! What the fuzz targets share: the fixed observations a loaded spec or state is decided with,
//! the fixed scalers a restored state is tried against, and the properties checked on every
//! decision that succeeds.
//!
//! Errors are always fine; a panic (or an abort) anywhere is the finding. libfuzzer-sys installs
//! a panic hook that aborts, so a panic is reported even where the library catches it.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use replicast::hpa::MetricInput;
use replicast::kpa::{KpaObservation, KpaSample};
use replicast::vpa::{ContainerResources, ContainerUsage, Resources, VpaState};
use replicast::{DecisionInput, LoadSamples, Scaler, ScalerSpec, ScalerState};

/// The first decision instant (2023-11-14T22:13:20Z).
pub const NOW_MS: i64 = 1_700_000_000_000;

/// The fuzz input as text: the parsers take `&str`, and invalid UTF-8 never reaches them.
#[must_use]
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The container names an observation reports usage for: the spec's named container policies
/// (not `"*"`), the containers a state already tracks, and `app`.
fn containers(spec: &ScalerSpec, state: &ScalerState) -> Vec<String> {
    let mut names: Vec<String> = spec
        .vpa
        .iter()
        .flat_map(|v| &v.container_policies)
        .map(|p| p.container_name.clone())
        .filter(|n| n != "*")
        .take(4)
        .collect();
    if let Some(vpa) = state_vpa(state) {
        names.extend(vpa.containers().keys().take(4).cloned());
    }
    names.push("app".to_owned());
    names.sort();
    names.dedup();
    names
}

/// The VPA half of a scaler state, through its public JSON (the field is private).
fn state_vpa(state: &ScalerState) -> Option<VpaState> {
    let value: serde_json::Value = serde_json::from_str(&state.to_json()).ok()?;
    let vpa = value.get("vpa")?;
    VpaState::from_json(&vpa.to_string()).ok()
}

/// A plausible observation for `scaler` at `now_ms`, scaled by `load` (1.0 = at target): one
/// aggregated value per HPA metric or KEDA trigger, every threshold signal, a load sample for
/// the predictive source, KPA samples, container usage and requests for the VPA.
#[must_use]
pub fn probe_input(scaler: &Scaler, state: &ScalerState, now_ms: i64, load: f64) -> DecisionInput {
    let spec = scaler.spec();
    let replicas = 3;
    let metrics = (0..scaler.metric_input_count())
        .map(|_| MetricInput::Aggregated {
            value: 80.0 * load,
            ready_replicas: replicas,
        })
        .collect();
    let signals: BTreeMap<String, f64> = spec
        .threshold
        .iter()
        .flat_map(|t| &t.rules)
        .map(|r| (r.signal.clone(), 60.0 * load))
        .collect();
    let predictive = spec.predictive.is_some();
    let kpa = spec.kpa.as_ref().map(|_| KpaObservation {
        samples: vec![
            KpaSample {
                time_ms: now_ms - 1_000,
                value: 50.0 * load,
            },
            KpaSample {
                time_ms: now_ms,
                value: 60.0 * load,
            },
        ],
        ..KpaObservation::default()
    });
    let (container_usage, container_resources) = if spec.vpa.is_some() {
        let names = containers(spec, state);
        let usage = names
            .iter()
            .map(|c| ContainerUsage {
                container: c.clone(),
                pod: format!("{c}-0"),
                start_ms: None,
                cpu_cores: Some(0.5 * load),
                memory_bytes: Some(2.0e8 * load),
                oom_requested_memory_bytes: None,
            })
            .collect();
        let resources = names
            .iter()
            .map(|c| ContainerResources {
                container: c.clone(),
                requests: Resources::new(500, 268_435_456),
                limits: Resources::new(1_000, 536_870_912),
                default_limits: Resources::default(),
            })
            .collect();
        (usage, resources)
    } else {
        (Vec::new(), Vec::new())
    };
    DecisionInput {
        now_ms,
        current_replicas: replicas,
        status_replicas: None,
        ready_replicas: Some(replicas),
        pods: None,
        metrics,
        load: predictive.then_some(120.0 * load),
        load_since_ms: None,
        load_samples: predictive.then(|| LoadSamples {
            step_ms: 5_000,
            values: vec![100.0 * load, 110.0 * load, 120.0 * load],
        }),
        signals,
        healthy: Some(true),
        kpa,
        container_usage,
        container_resources,
    }
}

/// A few decisions on `state` after its last one (15 s apart, load rising then falling); each
/// state a decision leaves must persist and restore unchanged (a controller stores it).
pub fn exercise(scaler: &Scaler, state: &mut ScalerState) {
    let start = state
        .last_decision_ms()
        .unwrap_or(NOW_MS)
        .saturating_add(15_000);
    for (i, load) in [1.0, 2.5, 0.4].into_iter().enumerate() {
        let now = start.saturating_add(15_000 * i as i64);
        let input = probe_input(scaler, state, now, load);
        if scaler.decide(state, &input).is_ok() {
            let json = state.to_json();
            let back = ScalerState::from_json(&json).unwrap_or_else(|e| {
                panic!("a state left by decide does not restore: {e}\nstate: {json}")
            });
            assert_eq!(&back, state, "a state left by decide restores differently");
        }
    }
}

/// The spec files shipped with the repository, one per source kind.
pub const SPECS: &[&str] = &[
    include_str!("../../testdata/seed/hpa.yaml"),
    include_str!("../../testdata/seed/thresholds.yaml"),
    include_str!("../../testdata/seed/vpa.yaml"),
    include_str!("../../examples/specs/hpa-vpa.yaml"),
    include_str!("../../examples/specs/keda-scaledobject.yaml"),
    include_str!("../../examples/specs/knative-service.yaml"),
    include_str!("../../examples/specs/predictive-slo.yaml"),
];

/// One scaler per shipped spec, built once (a restored state is decided with each).
///
/// # Panics
/// If a shipped spec does not load (the main test suite would fail first).
pub fn fixed_scalers() -> &'static [Scaler] {
    static SCALERS: OnceLock<Vec<Scaler>> = OnceLock::new();
    SCALERS.get_or_init(|| {
        SPECS
            .iter()
            .map(|text| {
                let spec = ScalerSpec::from_yaml(text).expect("a shipped spec loads");
                Scaler::new(spec).expect("a shipped spec builds a scaler")
            })
            .collect()
    })
}
