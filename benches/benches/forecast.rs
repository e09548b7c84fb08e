//! Forecasting cost: one incremental update with a daily season at one-minute resolution, a full
//! refit on four and on seven days of one-minute data, the regression and multi-seasonal models
//! on a week (and two weeks, daily + weekly) of one-minute data, and `decide` with the predictive
//! source.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use replicast::forecast::{Auto, Ets, Fit, MultiSeasonal, Regression, Update};
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

/// `days` of one-minute data with a daily season, and a weekday/weekend difference.
fn daily_weekly(days: usize) -> Vec<f64> {
    daily(days * 1440)
        .into_iter()
        .enumerate()
        .map(|(t, v)| if (t / 1440) % 7 >= 5 { 0.6 * v } else { v })
        .collect()
}

fn long_history(c: &mut Criterion) {
    let y7 = daily_weekly(7);
    let y14 = daily_weekly(14);
    let mut ms = MultiSeasonal {
        periods: Some(vec![1440]),
        ..MultiSeasonal::default()
    }
    .fit(&y7)
    .expect("fits");
    let mut reg = Regression {
        periods: Some(vec![1440]),
        ..Regression::default()
    }
    .fit(&y7)
    .expect("fits");
    let mut i = 0usize;
    c.bench_function("forecast/update_multi_seasonal_daily_1min", |b| {
        b.iter(|| {
            i += 1;
            ms.update(black_box(y7[i % y7.len()])).expect("finite");
        });
    });
    c.bench_function("forecast/update_regression_daily_1min", |b| {
        b.iter(|| {
            i += 1;
            reg.update(black_box(y7[i % y7.len()])).expect("finite");
        });
    });
    let mut group = c.benchmark_group("forecast");
    group.sample_size(10);
    group.bench_function("refit_multi_seasonal_7_days_1min", |b| {
        b.iter(|| {
            let spec = MultiSeasonal {
                periods: Some(vec![1440]),
                ..MultiSeasonal::default()
            };
            black_box(spec.fit(black_box(&y7)).expect("fits"))
        });
    });
    group.bench_function("refit_multi_seasonal_daily_weekly_14_days_1min", |b| {
        b.iter(|| {
            let spec = MultiSeasonal {
                periods: Some(vec![1440, 10_080]),
                ..MultiSeasonal::default()
            };
            black_box(spec.fit(black_box(&y14)).expect("fits"))
        });
    });
    group.bench_function("refit_regression_7_days_1min", |b| {
        b.iter(|| {
            let spec = Regression {
                periods: Some(vec![1440]),
                ..Regression::default()
            };
            black_box(spec.fit(black_box(&y7)).expect("fits"))
        });
    });
    group.finish();
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
    decide_predictive_with(c, "decide/hpa_plus_predictive", "");
    // the backtest's predictive policy: quantile at a peak utilization, scale-in on forecast
    decide_predictive_with(
        c,
        "decide/hpa_plus_predictive_scale_in",
        ", quantile: 0.98, target_utilization: 0.8, peak_utilization: 0.86, scale_in: {window_s: 300}",
    );
    // the backtest's default now: a headroom calibrated to an SLO, scale-in on forecast
    decide_predictive_with(
        c,
        "decide/hpa_plus_predictive_slo",
        ", slo: {max_overloaded_pct: 0.05, max_cost_ratio: 1.1}, scale_in: {window_s: 300}",
    );
}

fn decide_predictive_with(c: &mut Criterion, name: &str, extra: &str) {
    let spec = ScalerSpec::from_yaml(&format!(
        "min_replicas: 1\nmax_replicas: 100\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 70}}}}]}}\npredictive: {{capacity_per_replica: 10, sample_interval_s: 60, decision_interval_s: 60{extra}}}\n",
    ))
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
    c.bench_function(name, |b| {
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

criterion_group!(benches, update, refit, long_history, decide_predictive);
criterion_main!(benches);
