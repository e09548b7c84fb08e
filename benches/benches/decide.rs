//! `decide` cost: aggregated input, per-pod input (100 pods, 2 metrics, behavior), and a batch
//! of 100 000 aggregated workloads.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use replicast::{Scaler, ScalerState};
use replicast_benches::{NOW_MS, aggregated_input, aggregated_spec, per_pod_input, per_pod_spec};

fn decide_aggregated(c: &mut Criterion) {
    let scaler = Scaler::new(aggregated_spec()).expect("valid spec");
    let mut state = ScalerState::new();
    let mut i = 0u64;
    c.bench_function("decide/hpa_aggregated", |b| {
        b.iter(|| {
            i += 1;
            let input = aggregated_input(i, NOW_MS + (i as i64) * 15_000);
            black_box(
                scaler
                    .decide(&mut state, black_box(&input))
                    .expect("decides"),
            )
        });
    });
}

fn decide_per_pod(c: &mut Criterion) {
    let scaler = Scaler::new(per_pod_spec()).expect("valid spec");
    let mut state = ScalerState::new();
    let mut i = 0i64;
    let mut input = per_pod_input(100, NOW_MS);
    c.bench_function("decide/hpa_per_pod_100_pods_2_metrics_behavior", |b| {
        b.iter(|| {
            // only the clock moves: no per-iteration copy of the 100-pod input to measure
            i += 1;
            input.now_ms = NOW_MS + i * 15_000;
            black_box(
                scaler
                    .decide(&mut state, black_box(&input))
                    .expect("decides"),
            )
        });
    });
}

fn decide_batch(c: &mut Criterion) {
    const WORKLOADS: usize = 100_000;
    let scaler = Scaler::new(aggregated_spec()).expect("valid spec");
    let inputs: Vec<_> = (0..WORKLOADS as u64)
        .map(|i| aggregated_input(i, NOW_MS))
        .collect();
    let mut group = c.benchmark_group("decide_batch");
    group.throughput(Throughput::Elements(WORKLOADS as u64));
    group.sample_size(10);
    group.bench_function("hpa_aggregated_100k", |b| {
        b.iter_batched_ref(
            || vec![ScalerState::new(); WORKLOADS],
            |states| black_box(scaler.decide_batch(states, &inputs).expect("same lengths")),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, decide_aggregated, decide_per_pod, decide_batch);
criterion_main!(benches);
