//! `ScalerSpec::from_json` and `ScalerSpec::from_yaml` on arbitrary text (replicast's own form,
//! HPA / VPA / ScaledObject / Knative manifests, multi-document YAML, the seed's threshold
//! files); every spec that loads builds a `Scaler` and decides a few fixed observations.
//! Nothing may panic; a state a decision leaves must restore unchanged.

#![no_main]

use libfuzzer_sys::fuzz_target;
use replicast::{Scaler, ScalerSpec, ScalerState};

fuzz_target!(|data: &[u8]| {
    let Some(text) = replicast_fuzz::text(data) else {
        return;
    };
    for spec in [ScalerSpec::from_json(text), ScalerSpec::from_yaml(text)]
        .into_iter()
        .flatten()
    {
        // a loaded spec is valid: it must survive its own JSON form
        let again = ScalerSpec::from_json(&spec.to_json())
            .unwrap_or_else(|e| panic!("a loaded spec's to_json does not load: {e}"));
        assert_eq!(again, spec, "a loaded spec's to_json loads differently");
        if let Ok(scaler) = Scaler::new(spec) {
            replicast_fuzz::exercise(&scaler, &mut ScalerState::new());
        }
    }
});
