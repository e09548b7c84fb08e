//! `ffi/<call>`: the cost of the C ABI boundary against the same core call, for the aggregated
//! fast path (one call, and a batch of 10 000 workloads) and the JSON path.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use std::ptr::{from_ref, null_mut};

use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use replicast::{Scaler, ScalerState};
use replicast_benches::{NOW_MS, aggregated_input, aggregated_spec};
use replicast_ffi::{
    replicast_aggregated_input, replicast_decision_summary, replicast_scaler,
    replicast_scaler_decide_aggregated, replicast_scaler_decide_aggregated_batch,
    replicast_scaler_decide_json, replicast_scaler_free, replicast_scaler_new,
    replicast_scaler_state, replicast_scaler_state_free, replicast_scaler_state_new,
    replicast_status,
};

fn c_scaler() -> *mut replicast_scaler {
    let spec = serde_json::to_string(&aggregated_spec()).expect("spec serialises");
    let mut s = null_mut();
    // SAFETY: valid pointers for the duration of the call.
    let st =
        unsafe { replicast_scaler_new(spec.as_ptr().cast(), spec.len(), &raw mut s, null_mut()) };
    assert_eq!(st, replicast_status::Ok);
    s
}

fn c_state() -> *mut replicast_scaler_state {
    let mut s = null_mut();
    // SAFETY: valid out pointer.
    assert_eq!(
        unsafe { replicast_scaler_state_new(&raw mut s, null_mut()) },
        replicast_status::Ok
    );
    s
}

fn c_input(now_ms: i64) -> replicast_aggregated_input {
    replicast_aggregated_input {
        now_ms,
        current_replicas: 10,
        ready_replicas: 10,
        ..replicast_aggregated_input::default()
    }
}

fn single(c: &mut Criterion) {
    let mut group = c.benchmark_group("ffi/decide_aggregated");
    let scaler = Scaler::new(aggregated_spec()).expect("valid spec");
    let mut state = ScalerState::new();
    let mut i = 0u64;
    group.bench_function("core", |b| {
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
    let cs = c_scaler();
    let cst = c_state();
    let mut i = 0u64;
    let mut out = replicast_decision_summary::default();
    group.bench_function("c_abi", |b| {
        b.iter(|| {
            i += 1;
            let input = c_input(NOW_MS + (i as i64) * 15_000);
            let value = 40.0 + (i % 60) as f64;
            // SAFETY: live handles and valid pointers for the call.
            let st = unsafe {
                replicast_scaler_decide_aggregated(
                    cs,
                    cst,
                    from_ref(black_box(&input)),
                    &raw const value,
                    1,
                    &raw mut out,
                    null_mut(),
                )
            };
            assert_eq!(st, replicast_status::Ok);
            black_box(out)
        });
    });
    let cst2 = c_state();
    let mut i = 0u64;
    let mut buf = vec![0u8; 4096];
    group.bench_function("c_abi_json", |b| {
        b.iter(|| {
            i += 1;
            let input = serde_json::to_string(&aggregated_input(i, NOW_MS + (i as i64) * 15_000))
                .expect("serialises");
            let mut needed = 0usize;
            // SAFETY: live handles and valid buffers for the call.
            let st = unsafe {
                replicast_scaler_decide_json(
                    cs,
                    cst2,
                    input.as_ptr().cast(),
                    input.len(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    &raw mut needed,
                    null_mut(),
                )
            };
            assert_eq!(st, replicast_status::Ok);
            black_box(needed)
        });
    });
    group.finish();
    // SAFETY: handles created above, freed once.
    unsafe {
        replicast_scaler_state_free(cst);
        replicast_scaler_state_free(cst2);
        replicast_scaler_free(cs);
    }
}

/// States freed on drop, which criterion does outside the timed routine (as for the core's
/// `Vec<ScalerState>`).
struct CStates(Vec<*mut replicast_scaler_state>);

impl Drop for CStates {
    fn drop(&mut self) {
        for &s in &self.0 {
            // SAFETY: created by `c_state`, freed once.
            unsafe { replicast_scaler_state_free(s) };
        }
    }
}

fn batch(c: &mut Criterion) {
    const N: usize = 10_000;
    let mut group = c.benchmark_group("ffi/decide_aggregated_batch_10k");
    group.throughput(Throughput::Elements(N as u64));
    group.sample_size(20);
    let scaler = Scaler::new(aggregated_spec()).expect("valid spec");
    let inputs: Vec<_> = (0..N as u64).map(|i| aggregated_input(i, NOW_MS)).collect();
    group.bench_function("core", |b| {
        b.iter_batched_ref(
            || vec![ScalerState::new(); N],
            |states| black_box(scaler.decide_batch(states, &inputs).expect("same lengths")),
            BatchSize::LargeInput,
        );
    });
    let cs = c_scaler();
    let c_inputs = vec![c_input(NOW_MS); N];
    let values: Vec<f64> = (0..N).map(|i| 40.0 + (i % 60) as f64).collect();
    let mut out = vec![replicast_decision_summary::default(); N];
    let mut statuses = vec![0u32; N];
    group.bench_function("c_abi", |b| {
        b.iter_batched_ref(
            || CStates((0..N).map(|_| c_state()).collect()),
            |CStates(states)| {
                // SAFETY: live handles and arrays of N elements.
                let st = unsafe {
                    replicast_scaler_decide_aggregated_batch(
                        cs,
                        states.as_ptr(),
                        c_inputs.as_ptr(),
                        N,
                        values.as_ptr(),
                        N,
                        out.as_mut_ptr(),
                        statuses.as_mut_ptr(),
                        null_mut(),
                        null_mut(),
                    )
                };
                assert_eq!(st, replicast_status::Ok);
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
    // SAFETY: created above, freed once.
    unsafe { replicast_scaler_free(cs) };
}

criterion_group!(benches, single, batch);
criterion_main!(benches);
