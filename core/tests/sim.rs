//! The backtest simulator: the oracle, settling, step response, hand-computed scores, and
//! malformed traces.

use proptest::prelude::*;
use replicast::sim::{Fleet, Timeline, Trace, oracle, score, simulate};
use replicast::{ErrorKind, Scaler, ScalerSpec};

fn fleet(initial: u32) -> Fleet {
    Fleet {
        capacity_per_replica: 10.0,
        startup_s: 120,
        decision_interval_s: 0,
        min_replicas: 1,
        max_replicas: 100,
        initial_replicas: initial,
    }
}

fn hpa() -> Scaler {
    Scaler::new(
        ScalerSpec::from_yaml(
            "min_replicas: 1\nmax_replicas: 100\nhpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}]}\n",
        )
        .unwrap(),
    )
    .unwrap()
}

fn minutes(values: Vec<f64>) -> Trace {
    Trace::new((0..values.len() as i64).map(|i| i * 60).collect(), values).unwrap()
}

proptest! {
    #[test]
    fn the_oracle_never_under_provisions_when_max_does_not_bind(
        values in prop::collection::vec(0.0f64..900.0, 2..200),
    ) {
        let run = oracle(&minutes(values), &fleet(1)).unwrap();
        prop_assert_eq!(run.scores.minutes_overloaded, 0.0);
        prop_assert_eq!(run.scores.theta_under_pct, 0.0);
        for (ready, provisioned) in run.timeline.ready.iter().zip(&run.timeline.provisioned) {
            prop_assert!(provisioned >= ready);
        }
    }
}

#[test]
fn constant_load_causes_no_scaling_after_warm_up() {
    let run = simulate(
        &minutes(vec![333.0; 240]),
        &fleet(3),
        &hpa(),
        "hpa",
        &mut |_| {},
    )
    .unwrap();
    let after_warm_up = &run.timeline.provisioned[30..];
    assert!(
        after_warm_up.iter().all(|r| *r == after_warm_up[0]),
        "{after_warm_up:?}"
    );
    // 333 / 10 per replica at a 70 % target: ceil(33.3 / 0.7) = 48 replicas, within tolerance
    let utilization = 100.0 * 333.0 / (f64::from(after_warm_up[0]) * 10.0);
    assert!((63.0..=77.0).contains(&utilization), "{utilization}");
}

#[test]
fn a_step_in_load_is_followed_within_startup_plus_interval() {
    let mut values = vec![100.0; 30];
    values.extend(vec![300.0; 30]);
    let run = simulate(&minutes(values), &fleet(15), &hpa(), "hpa", &mut |_| {}).unwrap();
    // the step is at k = 30; the policy sees it at the decision of k = 31 (one interval), and the
    // replicas it starts serve 120 s later, at k = 33
    let served_from = (30..60)
        .find(|&k| f64::from(run.timeline.ready[k]) * 10.0 >= 300.0)
        .expect("capacity catches up");
    assert!(served_from <= 33, "ready only from step {served_from}");
    // 200 % of a 70 % target wants ceil(2.857 × 15) = 43; the legacy cap allows 2 × 15 first
    assert_eq!(run.timeline.provisioned[31], 30);
    assert_eq!(run.timeline.provisioned[32], 43);
}

#[test]
fn scores_match_hand_computed_values() {
    // 4 one-minute steps, capacity 10: needed 1, 2, 3, 1; ready 1, 1, 3, 2; provisioned 1, 3, 3, 2
    let timeline = Timeline {
        timestamps_s: vec![0, 60, 120, 180],
        load: vec![10.0, 20.0, 25.0, 5.0],
        ready: vec![1, 1, 3, 2],
        provisioned: vec![1, 3, 3, 2],
        needed: vec![1, 2, 3, 1],
    };
    let s = score(&timeline, 10.0, 60);
    // θU = 100/4 × (1/2) = 12.5; θO = 100/4 × (1/1) = 25
    assert!((s.theta_under_pct - 12.5).abs() < 1e-12);
    assert!((s.theta_over_pct - 25.0).abs() < 1e-12);
    assert!((s.tau_under_pct - 25.0).abs() < 1e-12);
    assert!((s.tau_over_pct - 25.0).abs() < 1e-12);
    // supply changes: 0, +, -  demand: +, +, -  → differ once in 3
    assert!((s.instability_pct - 100.0 / 3.0).abs() < 1e-12);
    // jitter: (2 supply changes − 3 demand changes) / (4 min = 1/15 h)
    assert!((s.jitter_per_hour - (-15.0)).abs() < 1e-9);
    // replica-hours: (1 + 3 + 3 + 2) / 60
    assert!((s.replica_hours - 9.0 / 60.0).abs() < 1e-12);
    // overloaded: step 1 only (20 > 10): 1 minute, 10 dropped of 60
    assert_eq!(s.minutes_overloaded, 1.0);
    assert_eq!(s.load_dropped, 10.0);
    assert!((s.load_dropped_pct - 100.0 / 6.0).abs() < 1e-12);
    // actions: up at 1, down at 3 → 2 actions, 1 direction change, per 1/15 h
    assert!((s.actions_per_hour - 30.0).abs() < 1e-9);
    assert!((s.direction_changes_per_hour - 15.0).abs() < 1e-9);
}

#[test]
fn malformed_traces_give_clear_errors() {
    let cases = [
        ("", "trace CSV is empty"),
        (
            "time,load\n0,1\n",
            "must start with the header timestamp,value",
        ),
        ("timestamp,value\n0,1\n", "at least 2 points, got 1"),
        (
            "timestamp,value\n60,1\n0,2\n",
            "row 2 (0) is not after row 1 (60) (unsorted)",
        ),
        ("timestamp,value\n0,1\n0,2\n", "(duplicate timestamp)"),
        (
            "timestamp,value\n0,1\n60,2\n180,3\n",
            "row 3 is 120 s after the previous one, expected 60 s",
        ),
        (
            "timestamp,value\n0,1\n60,NaN\n",
            "row 2 must be a finite number >= 0, got NaN",
        ),
        (
            "timestamp,value\n0,1\n60,-4\n",
            "row 2 must be a finite number >= 0, got -4",
        ),
        (
            "timestamp,value\n0,1\n60\n",
            "line 3: expected `timestamp,value`",
        ),
    ];
    for (text, message) in cases {
        let err = Trace::from_csv(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains(message), "{text:?}: {err}");
    }
}

#[test]
fn prometheus_query_range_json_loads_and_sums_series() {
    let json = r#"{"status":"success","data":{"resultType":"matrix","result":[
        {"metric":{"pod":"a"},"values":[[1700000000,"1.5"],[1700000060,"2"]]},
        {"metric":{"pod":"b"},"values":[[1700000000,"0.5"],[1700000060,"1"]]}]}}"#;
    let t = Trace::from_prometheus_json(json).unwrap();
    assert_eq!(t.values(), &[2.0, 3.0]);
    assert_eq!(t.step_s(), 60);
    let err = Trace::from_prometheus_json(r#"{"status":"error"}"#).unwrap_err();
    assert!(
        err.message().contains("status must be \"success\""),
        "{err}"
    );
}

#[test]
fn a_bad_fleet_is_rejected() {
    let mut f = fleet(1);
    f.capacity_per_replica = 0.0;
    let err = oracle(&minutes(vec![1.0, 2.0]), &f).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.message().contains("capacity_per_replica"), "{err}");
}

#[test]
fn tune_picks_a_predictive_policy_when_the_reactive_ones_cannot_meet_the_slo() {
    use replicast::sim::{TuneGrid, tune};
    // three days of a daily rhythm with a steep morning rise, at one-minute resolution
    let trace = minutes(
        (0..3 * 1440)
            .map(|m| {
                let minute_of_day = m % 1440;
                if (480..1080).contains(&minute_of_day) {
                    400.0 + f64::from((minute_of_day - 480).min(30)) * 20.0
                } else {
                    400.0
                }
            })
            .collect(),
    );
    let fleet = Fleet {
        capacity_per_replica: 50.0,
        startup_s: 300,
        decision_interval_s: 60,
        min_replicas: 1,
        max_replicas: 100,
        initial_replicas: 12,
    };
    // a hot reactive target cannot absorb a rise that lasts less than a start-up
    let grid = TuneGrid {
        targets: vec![90],
        tolerances: vec![0.1],
        down_windows_s: vec![300],
        predictive_targets: vec![70],
        quantiles: vec![0.95],
        peak_utilizations: vec![0.86],
        startups_s: vec![300],
        slo_cost_ratios: vec![],
    };
    let best = tune(&trace, &fleet, 99.5, &grid, 0.0, &mut |_| {}).unwrap();
    assert!(best.held_out.is_none());
    assert_eq!(best.tried, 2);
    assert_eq!(best.feasible, 1, "{:?}", best.scores);
    let predictive = best.spec.predictive.expect("the predictive policy won");
    assert_eq!(predictive.quantile, 0.95);
    assert!(best.scores.minutes_overloaded <= 0.005 * 3.0 * 1440.0);
}

#[test]
fn a_forecasting_policy_is_scored_on_its_forecasts() {
    use replicast::sim::{PredictivePolicy, Provision, predictive_policy};
    // two days of an hourly rhythm with a little deterministic noise
    let trace = minutes(
        (0..2 * 1440)
            .map(|m| {
                let phase = f64::from(m % 60) / 60.0 * std::f64::consts::TAU;
                300.0 + 100.0 * phase.sin() + f64::from((m * 7919) % 13) - 6.0
            })
            .collect(),
    );
    let fleet = fleet(40);
    let knobs = PredictivePolicy {
        backstop_pct: 70,
        provision: Provision::Quantile {
            target_pct: 70,
            quantile: 0.9,
            peak_utilization: 0.9,
        },
        startup_s: 120,
        phase_of_hour: true,
    };
    let spec = predictive_policy(&fleet, 60, &knobs).unwrap();
    let run = simulate(
        &trace,
        &fleet,
        &Scaler::new(spec).unwrap(),
        "p",
        &mut |_| {},
    )
    .unwrap();
    let mase = run.scores.forecast_mase.expect("scored");
    let coverage = run.scores.forecast_coverage90.expect("scored");
    // the naive one-step error here is about 10 per step; the seasonal model is far better
    assert!(mase > 0.0 && mase < 0.8, "MASE {mase}");
    assert!((0.8..=1.0).contains(&coverage), "coverage {coverage}");
    let reactive = simulate(&trace, &fleet, &hpa(), "hpa", &mut |_| {}).unwrap();
    assert_eq!(reactive.scores.forecast_mase, None);
    assert_eq!(reactive.scores.forecast_coverage90, None);
}

/// Six hours of one-second request counts: Poisson around a ten-minute wave of 20 ± 15 per second
/// (Knuth's method on a fixed linear congruential generator: the same series on every run).
fn one_second_requests() -> Trace {
    let mut seed: u64 = 42;
    let mut uniform = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 11) as f64) / ((1u64 << 53) as f64)
    };
    let values = (0..6 * 3600)
        .map(|t| {
            let rate = 20.0 + 15.0 * (f64::from(t) / 600.0 * std::f64::consts::TAU).sin();
            let (limit, mut product, mut count) = ((-rate).exp(), uniform(), 0.0);
            while product > limit {
                product *= uniform();
                count += 1.0;
            }
            count
        })
        .collect();
    Trace::new((0..6 * 3600).collect(), values).unwrap()
}

#[test]
fn a_one_second_trace_is_forecast_at_the_policy_s_resolution_not_per_decision_sample() {
    use replicast::sim::{PredictivePolicy, forecast_interval_s, predictive_policy};
    let trace = one_second_requests();
    let fleet = Fleet::for_trace(&trace, 5.0, 120, 0, 100);
    let spec = predictive_policy(&fleet, 1, &PredictivePolicy::default_for(120)).unwrap();
    let predictive = spec.predictive.as_ref().unwrap();
    // decisions every 15 s, forecasts of 30 s means (a quarter of the start-up)
    assert_eq!(predictive.decision_interval_s, 15);
    assert_eq!(predictive.sample_interval_s, forecast_interval_s(1, 120));
    assert_eq!(predictive.sample_interval_s, 30);
    let run = simulate(
        &trace,
        &fleet,
        &Scaler::new(spec).unwrap(),
        "p",
        &mut |_| {},
    )
    .unwrap();
    // scored against the trace's 30 s means: the ten-minute wave is learned, so the one-step
    // forecasts beat the naive one by far, and the 90 % intervals cover about 90 %
    let mase = run.scores.forecast_mase.expect("scored");
    let coverage = run.scores.forecast_coverage90.expect("scored");
    assert!(mase < 0.8, "MASE {mase}");
    assert!((0.8..=0.98).contains(&coverage), "coverage {coverage}");
    // and the fleet keeps up with the wave at the scale the trace's per-second noise allows
    let hpa = simulate(&trace, &fleet, &hpa(), "hpa", &mut |_| {}).unwrap();
    assert!(
        run.scores.minutes_overloaded < hpa.scores.minutes_overloaded,
        "predictive {} min, hpa {} min",
        run.scores.minutes_overloaded,
        hpa.scores.minutes_overloaded
    );
}

#[test]
fn tune_scores_its_pick_on_the_tail_it_did_not_search() {
    use replicast::sim::{TuneGrid, tune};
    let fleet = Fleet {
        capacity_per_replica: 10.0,
        startup_s: 120,
        decision_interval_s: 60,
        min_replicas: 1,
        max_replicas: 100,
        initial_replicas: 10,
    };
    let grid = TuneGrid {
        targets: vec![60, 80, 95],
        tolerances: vec![0.1],
        down_windows_s: vec![300],
        quantiles: vec![],
        slo_cost_ratios: vec![],
        ..TuneGrid::default()
    };
    // four days of a slow daily wave: the tail looks like the rest, the pick holds there
    let wave = |m: i64| 300.0 + 200.0 * ((m % 1440) as f64 / 1440.0 * std::f64::consts::TAU).sin();
    let steady = minutes((0..4 * 1440).map(wave).collect());
    let best = tune(&steady, &fleet, 99.0, &grid, 25.0, &mut |_| {}).unwrap();
    let tail = best.held_out.expect("a quarter held back");
    assert_eq!(tail.steps, 1440);
    assert!((tail.allowed_minutes - 14.4).abs() < 1e-9);
    assert!(tail.meets_slo, "{:?}", tail.scores);
    // the same, with bursts in the last day only: chosen without them, the pick misses there
    let bursty = minutes(
        (0..4 * 1440)
            .map(|m| {
                wave(m)
                    * if m >= 3 * 1440 && m % 60 < 10 {
                        3.0
                    } else {
                        1.0
                    }
            })
            .collect(),
    );
    let best = tune(&bursty, &fleet, 99.0, &grid, 25.0, &mut |_| {}).unwrap();
    let tail = best.held_out.unwrap();
    assert!(!tail.meets_slo, "{:?}", tail.scores);
    assert!(tail.scores.minutes_overloaded > tail.allowed_minutes);
    // nothing to search on is a clear error
    let err = tune(&steady, &fleet, 99.0, &grid, 95.0, &mut |_| {}).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        err.message(),
        "the held-out share must be a percentage in [0, 90], got 95"
    );
}

/// A day-like trace in minutes: quiet, a ramp, a plateau, a burst, a fall, and quiet again.
fn bursty() -> Trace {
    let mut v = vec![0.0; 30];
    v.extend((0..30).map(|i| f64::from(i) * 10.0));
    v.extend(vec![300.0; 60]);
    v.extend(vec![900.0; 5]);
    v.extend(vec![300.0; 30]);
    v.extend(vec![0.0; 60]);
    minutes(v)
}

fn zero_fleet() -> Fleet {
    Fleet {
        min_replicas: 0,
        ..fleet(1)
    }
}

#[test]
fn a_kpa_policy_replays_with_panic_and_scale_to_zero() {
    // 10 per pod at 100 % (capacity 10), target 7: the KPA's concurrency target in load units
    let s = Scaler::new(
        ScalerSpec::from_yaml("min_replicas: 0\nmax_replicas: 100\nkpa: {target: 10}\n").unwrap(),
    )
    .unwrap();
    let run = simulate(&bursty(), &zero_fleet(), &s, "kpa", &mut |_| {}).unwrap();
    let p = &run.timeline.provisioned;
    assert_eq!(p[10], 0, "no traffic, no pods");
    // the plateau of 300 at 7 per pod wants ceil(300 / 7) = 43
    assert_eq!(p[100], 43, "{:?}", &p[90..110]);
    // the burst of 900 wants 129, capped at max 100
    assert_eq!(*p[121..126].iter().max().unwrap(), 100);
    // back to zero at the end, after the stable window and the grace period
    assert_eq!(*p.last().unwrap(), 0);
    assert!(run.scores.replica_hours > 0.0);
}

#[test]
fn a_keda_policy_replays_with_activation_and_cooldown() {
    let s = Scaler::new(
        ScalerSpec::from_yaml(
            "min_replicas: 0\nmax_replicas: 100\nkeda:\n  cooldown_period_s: 300\n  triggers: [{type: prometheus, name: rps, target: 7, activation_target: 5}]\n",
        )
        .unwrap(),
    )
    .unwrap();
    let run = simulate(&bursty(), &zero_fleet(), &s, "keda", &mut |_| {}).unwrap();
    let p = &run.timeline.provisioned;
    assert_eq!(p[29], 0, "inactive at zero");
    // activation at the first value above 5 (10 at minute 31), then the HPA takes over
    let first = p[5..].iter().position(|r| *r > 0).unwrap() + 5;
    assert!((31..=33).contains(&first), "activated at {first}");
    assert_eq!(p[first], 1, "activation goes to max(min, 1)");
    // on the plateau the HPA's tolerance band holds it near ceil(300 / 7) = 43
    let ratio = 300.0 / (7.0 * f64::from(p[100]));
    assert!(
        (ratio - 1.0).abs() <= 0.1,
        "{} replicas: ratio {ratio}",
        p[100]
    );
    // quiet from minute 155: the HPA holds 1 (its min), KEDA goes to zero after the cooldown
    let zero_again = p[155..].iter().position(|r| *r == 0).unwrap() + 155;
    assert!(
        (160..=163).contains(&zero_again),
        "zero again at {zero_again}"
    );
}
