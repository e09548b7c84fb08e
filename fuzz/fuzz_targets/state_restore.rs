//! Every snapshot a caller persists and hands back, restored from arbitrary text:
//! `ScalerState`, `KpaState`, `VpaState`, a VPA checkpoint (`CheckpointStatus` through serde and
//! `VerticalPodAutoscalerCheckpoint::from_text`) and a fitted forecasting model
//! (`FittedModel::from_json`). What loads is used: decided with every shipped spec, ticked by a
//! KPA, recommended from by a VPA, asked to forecast and update. Nothing may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use replicast::ScalerState;
use replicast::forecast::{FittedModel, Predict, Update};
use replicast::kpa::{Kpa, KpaInput, KpaSample, KpaSpec, KpaState};
use replicast::vpa::checkpoint::CheckpointStatus;
use replicast::vpa::{
    ContainerResources, ContainerUsage, Resources, VerticalPodAutoscalerCheckpoint, Vpa, VpaSpec,
    VpaState,
};
use replicast_fuzz::NOW_MS;

/// KPAs a restored `KpaState` is ticked with: defaults, a scale-down delay, a short window.
fn kpas() -> &'static [Kpa] {
    static KPAS: OnceLock<Vec<Kpa>> = OnceLock::new();
    KPAS.get_or_init(|| {
        let base = KpaSpec {
            min_scale: 0,
            max_scale: 10,
            ..KpaSpec::default()
        };
        [
            base.clone(),
            KpaSpec {
                scale_down_delay_s: 30,
                ..base.clone()
            },
            KpaSpec {
                stable_window_s: 6,
                ..base
            },
        ]
        .into_iter()
        .map(|spec| Kpa::new(spec).expect("a fixed KPA spec is valid"))
        .collect()
    })
}

/// The default VPA, which restored VPA states and checkpoints are used with.
fn vpa() -> &'static Vpa {
    static VPA: OnceLock<Vpa> = OnceLock::new();
    VPA.get_or_init(|| Vpa::new(VpaSpec::default()).expect("the default VPA spec is valid"))
}

fn use_kpa_state(state: &KpaState) {
    let now = state.last_tick_ms().unwrap_or(NOW_MS).saturating_add(2_000);
    for kpa in kpas() {
        let mut s = state.clone();
        let _ = kpa.averages(&s, now);
        let _ = kpa.decide(
            &mut s,
            &KpaInput {
                now_ms: now,
                ready_pods: Some(2),
                current_replicas: 2,
                samples: vec![KpaSample {
                    time_ms: now,
                    value: 150.0,
                }],
                ..KpaInput::default()
            },
        );
        let _ = KpaState::from_json(&s.to_json());
    }
}

fn use_vpa_state(state: &mut VpaState) {
    let vpa = vpa();
    let mut names: Vec<String> = state.containers().keys().take(4).cloned().collect();
    names.push("app".to_owned());
    let resources: Vec<ContainerResources> = names
        .iter()
        .map(|c| ContainerResources {
            container: c.clone(),
            requests: Resources::new(500, 268_435_456),
            limits: Resources::new(1_000, 536_870_912),
            default_limits: Resources::default(),
        })
        .collect();
    let _ = vpa.recommend(state, NOW_MS, &resources);
    let usage: Vec<ContainerUsage> = names
        .iter()
        .map(|c| ContainerUsage {
            container: c.clone(),
            pod: format!("{c}-0"),
            start_ms: None,
            cpu_cores: Some(0.5),
            memory_bytes: Some(2.0e8),
            oom_requested_memory_bytes: Some(3.0e8),
        })
        .collect();
    let _ = state.observe(vpa, NOW_MS, &usage);
    let _ = state.gc(vpa, NOW_MS + 86_400_000);
    let _ = vpa.recommend(state, NOW_MS + 86_400_000, &resources);
    let checkpoints = state.to_checkpoints(NOW_MS);
    let _ = VpaState::from_checkpoints(vpa, &checkpoints, NOW_MS);
    let _ = VpaState::from_json(&state.to_json());
}

fn use_checkpoint(status: &CheckpointStatus) {
    let mut state = VpaState::new();
    if state.load_checkpoint(vpa(), "app", status, NOW_MS).is_ok() {
        use_vpa_state(&mut state);
    }
}

fn use_model(model: &FittedModel) {
    for (horizon, level) in [(1, None), (3, Some(0.9)), (48, Some(0.5))] {
        let _ = model.predict(horizon, level);
    }
    let mut m = model.clone();
    for y in [0.0, 1.0e6, 42.0] {
        if m.update(y).is_ok() {
            let _ = m.predict(5, 0.8);
        }
    }
    let _ = model.n_obs();
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = replicast_fuzz::text(data) else {
        return;
    };
    if let Ok(state) = ScalerState::from_json(text) {
        for scaler in replicast_fuzz::fixed_scalers() {
            replicast_fuzz::exercise(scaler, &mut state.clone());
        }
    }
    if let Ok(state) = KpaState::from_json(text) {
        use_kpa_state(&state);
    }
    if let Ok(mut state) = VpaState::from_json(text) {
        use_vpa_state(&mut state);
    }
    if let Ok(status) = serde_json::from_str::<CheckpointStatus>(text) {
        use_checkpoint(&status);
    }
    if let Ok(checkpoint) = VerticalPodAutoscalerCheckpoint::from_text(text) {
        use_checkpoint(&checkpoint.status);
    }
    if let Ok(model) = FittedModel::from_json(text) {
        use_model(&model);
    }
});
