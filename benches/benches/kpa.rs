//! `kpa` cost: one KPA tick — record a scraped sample into the stable and panic windows, the
//! decider's `Scale(now)`, and the reconciler — with Knative's defaults (60 s linear window),
//! and with a weighted-exponential window plus a 5 minute scale-down delay.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use replicast::kpa::{Aggregation, Kpa, KpaInput, KpaSample, KpaSpec};
use replicast_benches::NOW_MS;

fn bench_decide(c: &mut Criterion, name: &str, spec: KpaSpec) {
    let kpa = Kpa::new(spec).expect("valid spec");
    let mut state = kpa.new_state(NOW_MS, Some(10));
    let mut input = KpaInput {
        now_ms: NOW_MS,
        ready_pods: Some(10),
        current_replicas: 10,
        samples: vec![KpaSample {
            time_ms: NOW_MS,
            value: 0.0,
        }],
        ..KpaInput::default()
    };
    let mut i = 0i64;
    c.bench_function(name, |b| {
        b.iter(|| {
            // one sample and one tick per second of simulated time, load varying with i;
            // only the clock and the value change: no per-iteration allocation of the input
            i += 1;
            input.now_ms = NOW_MS + i * 1_000;
            input.samples[0] = KpaSample {
                time_ms: input.now_ms,
                value: 500.0 + (i % 120) as f64 * 5.0,
            };
            black_box(kpa.decide(&mut state, black_box(&input)).expect("decides"))
        });
    });
}

fn decide(c: &mut Criterion) {
    bench_decide(c, "kpa/decide_default", KpaSpec::default());
    bench_decide(
        c,
        "kpa/decide_weighted_delay_300s",
        KpaSpec {
            aggregation: Aggregation::WeightedExponential,
            scale_down_delay_s: 300,
            ..KpaSpec::default()
        },
    );
}

criterion_group!(benches, decide);
criterion_main!(benches);
