//! Inputs the `c_abi` fuzz target (`fuzz/fuzz_targets/c_abi.rs`, docs/fuzzing.md) found breaking
//! the C ABI's contract, replayed through the exports. The target's input files are committed
//! under `testdata/fuzz/c_abi/` (in the target's own layout, decoded here by hand).

#![allow(clippy::undocumented_unsafe_blocks)]

use std::ptr::null_mut;

use replicast_ffi::*;

mod common;

fn to_json(model: *const replicast_fitted_model) -> String {
    common::written_json(|buf, len, needed| unsafe {
        replicast_fitted_model_to_json(model, buf, len, needed, null_mut())
    })
}

/// `seasonal-naive-update-overflows-sse.bin`: fit `{"kind":"seasonal_naive","period":4}` to
/// `[2.6e251, 0, 0, 40]`, update with `3.0e180`. The update succeeded with an infinite error
/// sum, which `to_json` wrote as `null`: the model's own JSON did not restore. The update now
/// fails with `NUMERICAL` and leaves the model as it was, still restorable.
#[test]
fn seasonal_naive_update_that_overflows_is_refused_and_the_model_restores() {
    let spec = r#"{"kind":"seasonal_naive","period":4}"#;
    let y = [2.602_358_493_301_596_3e251, 0.0, 0.0, 40.000_007_661_059_5];
    let mut model = null_mut();
    let st = unsafe {
        replicast_model_fit(
            spec.as_ptr().cast(),
            spec.len(),
            y.as_ptr(),
            y.len(),
            &raw mut model,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok);
    let before = to_json(model);
    let mut err = null_mut();
    let st =
        unsafe { replicast_fitted_model_update(model, 3.031_786_768_962_426_4e180, &raw mut err) };
    assert_eq!(st, replicast_status::Numerical);
    unsafe { replicast_error_free(err) };
    let json = to_json(model);
    assert_eq!(json, before, "a failed update leaves the model unchanged");
    let mut back = null_mut();
    let st = unsafe {
        replicast_fitted_model_from_json(
            json.as_ptr().cast(),
            json.len(),
            &raw mut back,
            null_mut(),
        )
    };
    assert_eq!(st, replicast_status::Ok, "{json}");
    unsafe {
        replicast_fitted_model_free(back);
        replicast_fitted_model_free(model);
    }
}
