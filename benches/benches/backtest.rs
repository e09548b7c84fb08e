//! Backtest cost per workload (issue 15: 1 000 backtests per second per core): a week of
//! 5-minute load (2016 steps) replayed through (a) the HPA policy alone and (b) the default
//! policies (HPA, threshold, predictive) plus the oracle, as `replicast backtest` runs them.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};
use replicast::Scaler;
use replicast::sim::{
    AUTO_PEAK_REPLICAS, Fleet, TARGET_UTILIZATION, default_policies, oracle, simulate,
};
use replicast_benches::week_5min_trace;

fn backtest(c: &mut Criterion) {
    let trace = week_5min_trace();
    let capacity = Fleet::auto_capacity(&trace, AUTO_PEAK_REPLICAS, TARGET_UTILIZATION);
    // the CLI's fleet: 120 s start-up, decisions every step, bounds from the policies
    let fleet = Fleet::for_trace(&trace, capacity, 120, 0, 100_000);
    let policies: Vec<(String, Scaler)> = default_policies(&fleet, trace.step_s())
        .expect("valid default policies")
        .into_iter()
        .map(|(name, spec)| (name, Scaler::new(spec).expect("valid spec")))
        .collect();
    let mut group = c.benchmark_group("backtest_week_5min");
    // one element = one workload's backtest
    group.throughput(Throughput::Elements(1));
    group.bench_function("hpa", |b| {
        let (name, scaler) = &policies[0];
        b.iter(|| {
            black_box(
                simulate(black_box(&trace), &fleet, scaler, name, &mut |_| {}).expect("replays"),
            )
        });
    });
    group.sample_size(20);
    group.bench_function("default_policies_and_oracle", |b| {
        b.iter(|| {
            for (name, scaler) in &policies {
                black_box(
                    simulate(black_box(&trace), &fleet, scaler, name, &mut |_| {})
                        .expect("replays"),
                );
            }
            black_box(oracle(black_box(&trace), &fleet).expect("scores"))
        });
    });
    group.finish();
}

criterion_group!(benches, backtest);
criterion_main!(benches);
