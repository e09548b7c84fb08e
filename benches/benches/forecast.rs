//! Forecasting cost: one incremental update with a daily season at one-minute resolution, a full
//! refit on four and on seven days of one-minute data, and `decide` with the predictive source.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use replicast::forecast::{Auto, Ets, Fit, Update};
use replicast::hpa::MetricInput;
use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};
use replicast_benches::NOW_MS;

/// Four days of a daily-shaped load at one-minute resolution with a little deterministic noise.
fn daily(minutes: usize) -> Vec<f64> {
    let mut x: u64 = 7;
    (0..minutes)
        .map(|t| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let noise = ((x >> 33) % 1000) as f64 / 100.0;
            200.0 + 150.0 * (t as f64 / 1440.0 * std::f64::consts::TAU).sin() + noise
        })
        .collect()
}

fn update(c: &mut Criterion) {
    let y = daily(4 * 1440);
    let mut model = Auto {
        periods: Some(vec![1440]),
        horizon: 3,
        ..Auto::default()
    }
    .fit(&y)
    .expect("fits");
    let mut i = 0usize;
    c.bench_function("forecast/update_auto_daily_1min", |b| {
        b.iter(|| {
            i += 1;
            model.update(black_box(y[i % y.len()])).expect("finite");
        });
    });
    let mut ets = Ets::default().period(1440).fit(&y).expect("fits");
    c.bench_function("forecast/update_ets_daily_1min", |b| {
        b.iter(|| {
            i += 1;
            ets.update(black_box(y[i % y.len()])).expect("finite");
        });
    });
}

fn refit(c: &mut Criterion) {
    let y = daily(4 * 1440);
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("refit_auto_4_days_1min", |b| {
        b.iter(|| {
            let auto = Auto {
                horizon: 3,
                ..Auto::default()
            };
            black_box(auto.fit(black_box(&y)).expect("fits"))
        });
    });
    let y7 = daily(7 * 1440);
    group.bench_function("refit_auto_7_days_1min", |b| {
        b.iter(|| {
            let auto = Auto {
                horizon: 3,
                ..Auto::default()
            };
            black_box(auto.fit(black_box(&y7)).expect("fits"))
        });
    });
    group.bench_function("refit_ets_4_days_1min", |b| {
        b.iter(|| {
            black_box(
                Ets::default()
                    .period(1440)
                    .fit(black_box(&y))
                    .expect("fits"),
            )
        });
    });
    group.finish();
}

fn decide_predictive(c: &mut Criterion) {
    let spec = ScalerSpec::from_yaml(
        "min_replicas: 1\nmax_replicas: 100\nhpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}]}\npredictive: {capacity_per_replica: 10, sample_interval_s: 60, decision_interval_s: 60}\n",
    )
    .expect("valid");
    let scaler = Scaler::new(spec).expect("valid");
    let y = daily(8 * 1440);
    let mut state = ScalerState::new();
    let input = |minute: usize| DecisionInput {
        now_ms: NOW_MS + minute as i64 * 60_000,
        current_replicas: 30,
        metrics: vec![MetricInput::Aggregated {
            value: 60.0,
            ready_replicas: 30,
        }],
        load: Some(y[minute % y.len()]),
        ..DecisionInput::default()
    };
    // warm up past the first day's refit so that the measured calls are steady-state
    let mut minute = 0;
    while minute < 4 * 1440 {
        scaler.decide(&mut state, &input(minute)).expect("decides");
        minute += 1;
    }
    c.bench_function("decide/hpa_plus_predictive", |b| {
        b.iter(|| {
            minute += 1;
            black_box(
                scaler
                    .decide(&mut state, black_box(&input(minute)))
                    .expect("decides"),
            )
        });
    });
}

criterion_group!(benches, update, refit, decide_predictive);
criterion_main!(benches);
