//! The backtest's trace readers, as `replicast backtest --trace FILE` calls them:
//! `Trace::from_csv` and `Trace::from_prometheus_json` on arbitrary text. A trace that loads is
//! replayed through the oracle and an HPA policy on a fleet sized for it. Nothing may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use replicast::sim::{self, Fleet, Trace};
use replicast::{Scaler, ScalerSpec};

fuzz_target!(|data: &[u8]| {
    let Some(text) = replicast_fuzz::text(data) else {
        return;
    };
    for trace in [Trace::from_csv(text), Trace::from_prometheus_json(text)]
        .into_iter()
        .flatten()
    {
        assert!(trace.len() >= 2 && trace.step_s() > 0);
        assert!(trace.values().iter().all(|v| v.is_finite() && *v >= 0.0));
        let capacity = Fleet::auto_capacity(&trace, 20, 0.7);
        let fleet = Fleet {
            capacity_per_replica: if capacity > 0.0 { capacity } else { 1.0 },
            startup_s: 120,
            decision_interval_s: 0,
            min_replicas: 1,
            max_replicas: 50,
            initial_replicas: 5,
        };
        let _ = sim::oracle(&trace, &fleet);
        let spec = ScalerSpec::from_yaml(
            "min_replicas: 1\nmax_replicas: 50\nhpa: {metrics: [{type: resource, resource: cpu, target: {type: utilization, average_utilization: 70}}]}",
        )
        .expect("the fixed HPA spec loads");
        let scaler = Scaler::new(spec).expect("the fixed HPA spec builds");
        let _ = sim::simulate(&trace, &fleet, &scaler, "hpa", &mut |_| {});
    }
});
