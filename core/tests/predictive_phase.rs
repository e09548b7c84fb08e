//! The predictive source's headroom by phase of the hour: a burst that recurs at the same minute
//! (one hour in four, at :32) is provisioned for ahead of that minute once learned, and a load
//! without such bursts is provisioned alike at every minute.

use replicast::hpa::MetricInput;
use replicast::{Decision, DecisionInput, Scaler, ScalerSpec, ScalerState, SourceKind};

/// The top of an hour, ms.
const HOUR_START: i64 = 1_699_999_200_000;

fn scaler(phase_of_hour: bool) -> Scaler {
    Scaler::new(
        ScalerSpec::from_yaml(&format!(
            "min_replicas: 1\nmax_replicas: 200\nhpa: {{metrics: [{{type: resource, resource: cpu, target: {{type: utilization, average_utilization: 70}}}}]}}\npredictive: {{capacity_per_replica: 10, startup_s: 120, decision_interval_s: 60, sample_interval_s: 60, slo: {{max_overloaded_pct: 0.05}}, phase_of_hour: {phase_of_hour}}}\n",
        ))
        .unwrap(),
    )
    .unwrap()
}

fn predictive_replicas(d: &Decision) -> u32 {
    d.proposals
        .iter()
        .find(|p| p.source == SourceKind::Predictive)
        .and_then(|p| p.replicas)
        .unwrap_or_else(|| panic!("no predictive proposal: {:?}", d.proposals))
}

/// Whether hour `h` bursts: one in four, in no period a forecaster could learn (splitmix64 of
/// the hour; a multiplicative hash alone is nearly periodic, at Fibonacci numbers of hours).
fn bursts_in(h: i64) -> bool {
    let mut z = (h as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) >> 62 == 0
}

/// Load in minute `m` (from the first hour's top): about 100, and 500 at :32 of the hours that
/// burst, when `bursts`.
fn load(m: i64, bursts: bool) -> f64 {
    let noise = 10.0 * ((m * 7_919 % 13) as f64 / 12.0 - 0.5);
    if bursts && m % 60 == 32 && bursts_in(m / 60) {
        500.0
    } else {
        100.0 + noise
    }
}

/// Eight days of decisions at the end of every minute, on a fleet that is always what the last
/// decision asked for (ready at once); the predictive proposals at :10 and :30 of the last hour
/// (a non-burst hour: its :32 is calm too).
fn replay(bursts: bool, phase_of_hour: bool) -> (u32, u32, ScalerState) {
    let s = scaler(phase_of_hour);
    let mut state = ScalerState::new();
    let mut replicas = 12;
    let (mut at_10, mut at_30) = (0, 0);
    let last_hour = 8 * 24 - 1;
    for m in 0..(8 * 24 * 60) {
        let now_ms = HOUR_START + (m + 1) * 60_000;
        let l = load(m, bursts);
        let input = DecisionInput {
            now_ms,
            current_replicas: replicas,
            ready_replicas: Some(replicas),
            metrics: vec![MetricInput::Aggregated {
                value: 100.0 * l / (f64::from(replicas) * 10.0),
                ready_replicas: replicas,
            }],
            load: Some(l),
            ..DecisionInput::default()
        };
        let d = s.decide(&mut state, &input).unwrap();
        replicas = d.replicas;
        // the decision at the end of minute :29 (now = :30) has :30, :31, :32 within its lead
        if m / 60 == last_hour {
            match m % 60 {
                9 => at_10 = predictive_replicas(&d),
                29 => at_30 = predictive_replicas(&d),
                _ => {}
            }
        }
    }
    (at_10, at_30, state)
}

#[test]
fn about_one_hour_in_four_bursts() {
    let n = (0..96).filter(|&h| bursts_in(h)).count();
    assert!((16..=32).contains(&n), "{n}");
}

#[test]
fn a_burst_that_recurs_at_the_same_minute_is_provisioned_for_ahead_of_it() {
    let (at_10, at_30, _) = replay(true, true);
    // the burst needs 50 replicas at 100 %, the calm minutes 11: ahead of :32 the source asks for
    // at least half as many again as at :10 (how much more is for the overload budget and the
    // cost bound to settle)
    assert!(2 * at_30 >= 3 * at_10, ":10 → {at_10}, :30 → {at_30}");
    assert!(at_30 <= 200);
}

#[test]
fn a_load_without_recurring_bursts_is_provisioned_alike_at_every_minute() {
    let (at_10, at_30, _) = replay(false, true);
    assert!(at_30.abs_diff(at_10) <= 2, ":10 → {at_10}, :30 → {at_30}");
}

#[test]
fn with_phase_of_hour_off_the_headroom_is_not_shared_out_by_minute() {
    let (at_10, at_30, state) = replay(true, false);
    // the forecaster alone sees some of the bursts (a day ago at this hour), but far less than
    // the phases do (the test above: at least half as many again)
    assert!(2 * at_30 < 3 * at_10, ":10 → {at_10}, :30 → {at_30}");
    // and nothing is learned or kept for it
    assert!(!state.to_json().contains("phase_scale"));
    let (_, _, on) = replay(true, true);
    assert!(on.to_json().contains("phase_scale"));
}

#[test]
fn the_switch_is_in_the_spec_and_on_by_default() {
    let spec =
        ScalerSpec::from_yaml("max_replicas: 5\npredictive: {capacity_per_replica: 10}\n").unwrap();
    assert!(spec.predictive.as_ref().unwrap().phase_of_hour);
    // the default is not written out, so specs serialized before it read back the same
    assert!(
        !serde_json::to_string(&spec)
            .unwrap()
            .contains("phase_of_hour")
    );
    let off = ScalerSpec::from_yaml(
        "max_replicas: 5\npredictive: {capacity_per_replica: 10, phase_of_hour: false}\n",
    )
    .unwrap();
    assert!(
        serde_json::to_string(&off)
            .unwrap()
            .contains("\"phase_of_hour\":false")
    );
}
