//! Soak: randomised decisions for every source, with snapshots and restores in between, to show
//! that long runs cannot panic, produce NaN, or grow state or memory without bound.
//!
//! `cargo run --release -p replicast-benches --bin soak -- [DECISIONS] [SEED]` (default 10^6
//! decisions, seed 1; `scripts/soak.sh` runs 10^8). Workloads of six kinds (HPA with behavior,
//! threshold, predictive with an SLO, KEDA with a formula and a fallback, Knative's KPA, HPA with
//! a VPA) take turns; each decision's observation is a random walk of the load with bursts,
//! failed metrics and, one time in a hundred, a malformed value (NaN, negative, a timestamp out
//! of order) that must be refused with the state left byte for byte as it was. Every 1,000th
//! decision of a workload restores its state from JSON, which must equal the state. Every
//! decision's replicas must lie in the spec's bounds (zero only where activation or scale to
//! zero may take it), and no number in a decision may be NaN or infinite. At the end it prints
//! the decisions per second, the largest state per kind (bytes of JSON) and the resident
//! memory at 10 % and at the end, and fails when the memory grew by more than 64 MiB after
//! that warm-up.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use replicast::hpa::MetricInput;
use replicast::kpa::{KpaObservation, KpaSample};
use replicast::vpa::{ContainerResources, ContainerUsage, Resources};
use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};

/// A small deterministic generator (xorshift64*): the soak is repeatable from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

const KINDS: [(&str, &str); 6] = [
    (
        "hpa",
        "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}\n    - {type: external, name: queue, target: {type: average_value, average_value: 30}}\nbehavior:\n  scale_down: {stabilization_window_s: 120}\n",
    ),
    (
        "threshold",
        "min_replicas: 1\nmax_replicas: 60\nthreshold:\n  rules:\n    - {signal: cpu, scale_up_above: 70, scale_down_below: 30}\ncooldown: {scale_up_s: 30, scale_down_s: 60}\n",
    ),
    (
        "predictive",
        "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 80}}\npredictive:\n  capacity_per_replica: 100\n  target_utilization: 0.8\n  sample_interval_s: 60\n  warmup_samples: 30\n  slo: {max_overloaded_pct: 0.5}\n",
    ),
    (
        "keda",
        "min_replicas: 0\nmax_replicas: 60\nkeda:\n  cooldown_period_s: 120\n  triggers:\n    - {type: prometheus, name: rps, target: 70, activation_target: 5}\n    - {type: kafka, name: lag, target: 100}\n  fallback: {failure_threshold: 3, replicas: 4, behavior: scaling_modifiers}\n  scaling_modifiers: {formula: \"max(rps ?? 0, (lag ?? 0) / 2)\", target: 70}\n",
    ),
    (
        "kpa",
        "min_replicas: 0\nmax_replicas: 60\nkpa: {target: 100}\n",
    ),
    (
        "hpa+vpa",
        "min_replicas: 1\nmax_replicas: 60\nhpa:\n  metrics:\n    - {type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}\nvpa:\n  container_policies: [{container_name: app, min_allowed: {cpu_millicores: 100}}]\n",
    ),
];

/// One workload: its scaler kind, state, clock, replicas, load and CPU request.
struct Workload {
    kind: usize,
    state: ScalerState,
    now_ms: i64,
    replicas: u32,
    load: f64,
    request_m: i64,
    decisions: u64,
}

fn observation(w: &Workload, rng: &mut Rng) -> DecisionInput {
    let ready = w.replicas.max(1);
    let per_pod = w.load / f64::from(ready);
    let utilization = 100.0 * per_pod * 1000.0 / w.request_m as f64 / 100.0;
    let aggregated = |value: f64| MetricInput::Aggregated {
        value,
        ready_replicas: ready,
    };
    let maybe_failed = |rng: &mut Rng, m: MetricInput| {
        if rng.chance(0.02) {
            MetricInput::Unavailable {
                reason: "soak: scrape failed".to_owned(),
            }
        } else {
            m
        }
    };
    let mut input = DecisionInput {
        now_ms: w.now_ms,
        current_replicas: w.replicas,
        ready_replicas: Some(w.replicas),
        ..DecisionInput::default()
    };
    match KINDS[w.kind].0 {
        "hpa" => {
            input.metrics = vec![
                maybe_failed(rng, aggregated(utilization)),
                maybe_failed(rng, aggregated(w.load)),
            ];
        }
        "threshold" => {
            input.signals = BTreeMap::from([("cpu".to_owned(), utilization.min(1e6))]);
        }
        "predictive" => {
            input.metrics = vec![maybe_failed(rng, aggregated(utilization))];
            input.load = Some(w.load);
        }
        "keda" => {
            input.metrics = vec![
                maybe_failed(rng, aggregated(w.load)),
                maybe_failed(rng, aggregated(2.0 * w.load)),
            ];
        }
        "kpa" => {
            let samples = (0..15)
                .map(|k| KpaSample {
                    time_ms: w.now_ms - 14_000 + k * 1000,
                    value: w.load,
                })
                .collect();
            input.kpa = Some(KpaObservation {
                samples,
                ..KpaObservation::default()
            });
        }
        _ => {
            input.metrics = vec![maybe_failed(rng, aggregated(utilization))];
            input.container_usage = (0..ready.min(8))
                .map(|p| ContainerUsage {
                    container: "app".into(),
                    pod: format!("p{p}"),
                    cpu_cores: Some(per_pod),
                    memory_bytes: Some(3e8 + 1e8 * rng.unit()),
                    ..ContainerUsage::default()
                })
                .collect();
            input.container_resources = vec![ContainerResources {
                container: "app".into(),
                requests: Resources::new(w.request_m, 1 << 30),
                limits: Resources::new(2 * w.request_m, 2 << 30),
                ..ContainerResources::default()
            }];
        }
    }
    input
}

/// Corrupts one number of `input`: a NaN, a negative value or a timestamp out of order.
fn corrupt(input: &mut DecisionInput, rng: &mut Rng) {
    match rng.next() % 3 {
        0 => input.now_ms -= 3_600_000,
        1 => {
            if let Some(MetricInput::Aggregated { value, .. }) = input.metrics.first_mut() {
                *value = f64::NAN;
            } else if let Some(load) = &mut input.load {
                *load = -1.0;
            } else if let Some(v) = input.signals.values_mut().next() {
                *v = f64::NAN;
            } else if let Some(kpa) = &mut input.kpa {
                kpa.samples[0].value = -5.0;
            } else {
                input.now_ms -= 3_600_000;
            }
        }
        _ => {
            if let Some(u) = input.container_usage.first_mut() {
                u.cpu_cores = Some(f64::INFINITY);
            } else {
                input.now_ms -= 3_600_000;
            }
        }
    }
}

fn finite_numbers(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        serde_json::Value::Array(a) => a.iter().all(finite_numbers),
        serde_json::Value::Object(o) => o.values().all(finite_numbers),
        _ => true,
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let total: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let scalers: Vec<Scaler> = KINDS
        .iter()
        .map(|(_, yaml)| {
            Scaler::new(ScalerSpec::from_yaml(yaml).expect("soak spec")).expect("soak scaler")
        })
        .collect();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut workloads: Vec<Workload> = (0..48)
        .map(|i| Workload {
            kind: i % KINDS.len(),
            state: ScalerState::new(),
            now_ms: 1_700_000_000_000,
            replicas: 2,
            load: 100.0,
            request_m: 500,
            decisions: 0,
        })
        .collect();
    let mut largest = [0usize; KINDS.len()];
    let (mut refused, mut failures) = (0u64, Vec::new());
    let started = Instant::now();
    let mut rss_warm = 0;
    for n in 0..total {
        if n == total / 10 {
            rss_warm = rss_kib();
        }
        let w = &mut workloads[(n % 48) as usize];
        w.now_ms += 15_000;
        // the load: a random walk with bursts and quiet spells
        let burst = if rng.chance(0.001) { 20.0 } else { 1.0 };
        w.load = (w.load * (0.9 + 0.2 * rng.unit()) * burst).clamp(0.0, 50_000.0);
        if rng.chance(0.0005) {
            w.load = 0.0;
        }
        if w.load == 0.0 && rng.chance(0.01) {
            w.load = 50.0;
        }
        let scaler = &scalers[w.kind];
        let mut input = observation(w, &mut rng);
        // (a first decision has no earlier timestamp to be out of order with)
        if w.decisions > 0 && rng.chance(0.01) {
            corrupt(&mut input, &mut rng);
            let before = w.state.to_json();
            match scaler.decide(&mut w.state, &input) {
                Err(_) => refused += 1,
                Ok(_) => failures.push(format!(
                    "{}: a corrupted input was accepted",
                    KINDS[w.kind].0
                )),
            }
            if w.state.to_json() != before {
                failures.push(format!(
                    "{}: a refused decision changed the state",
                    KINDS[w.kind].0
                ));
            }
            continue;
        }
        let d = match scaler.decide(&mut w.state, &input) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: {e}", KINDS[w.kind].0));
                continue;
            }
        };
        let spec = scaler.spec();
        let zero_ok = spec.min_replicas == 0;
        if d.replicas > spec.max_replicas || (d.replicas < spec.min_replicas && !zero_ok) {
            failures.push(format!(
                "{}: {} replicas outside the bounds",
                KINDS[w.kind].0, d.replicas
            ));
        }
        if !finite_numbers(&serde_json::to_value(&d).unwrap_or_default()) {
            failures.push(format!(
                "{}: a decision has a non-finite number",
                KINDS[w.kind].0
            ));
        }
        w.replicas = d.replicas;
        if let Some(a) = d.vertical.as_ref().and_then(|v| v.apply.first()) {
            w.request_m = a.requests.cpu_millicores.unwrap_or(w.request_m).max(1);
        }
        w.decisions += 1;
        if w.decisions.is_multiple_of(1000) {
            let json = w.state.to_json();
            largest[w.kind] = largest[w.kind].max(json.len());
            match ScalerState::from_json(&json) {
                Ok(restored) if restored == w.state => w.state = restored,
                _ => failures.push(format!(
                    "{}: the state does not restore to itself",
                    KINDS[w.kind].0
                )),
            }
        }
        if failures.len() > 20 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_end = rss_kib();
    println!(
        "soak: {total} decisions (seed {seed}) in {elapsed:.1} s ({:.0} per second), {refused} malformed inputs refused",
        total as f64 / elapsed
    );
    for (i, (name, _)) in KINDS.iter().enumerate() {
        println!("  largest {name} state: {} bytes of JSON", largest[i]);
    }
    println!(
        "  resident memory: {rss_warm} KiB after 10 %, {rss_end} KiB at the end ({:+} KiB)",
        rss_end as i64 - rss_warm as i64
    );
    if rss_end.saturating_sub(rss_warm) > 64 * 1024 {
        failures.push("resident memory grew by more than 64 MiB after the warm-up".to_owned());
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for f in &failures {
            eprintln!("soak failure: {f}");
        }
        ExitCode::FAILURE
    }
}
