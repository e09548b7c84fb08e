//! VPA recommender cost: recording one CPU + memory sample, observing a 3-container pod, and
//! recommending for a workload with 3 containers (8 days of one-minute history each, with the
//! pod's current resources: limits and the updater priority included). Prints the checkpoint
//! size per container.

// criterion's macros generate undocumented functions
#![allow(missing_docs)]

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use replicast::vpa::{ContainerResources, ContainerUsage, Resources, Vpa, VpaSpec, VpaState};

const T0: i64 = 1_704_067_200_000;
const MINUTE: i64 = 60_000;
const CONTAINERS: [&str; 3] = ["app", "cache", "proxy"];

/// Deterministic usage that wanders over a few hundred millicores / MiB.
fn usage(i: i64, c: usize) -> (i64, i64) {
    let x = (i.wrapping_mul(2_654_435_761) >> 7).rem_euclid(400);
    (150 + x + 100 * c as i64, (300 + x + 50 * c as i64) << 20)
}

fn history(vpa: &Vpa, minutes: i64) -> VpaState {
    let mut state = VpaState::new();
    for i in 0..minutes {
        for (c, name) in CONTAINERS.iter().enumerate() {
            let (cpu, mem) = usage(i, c);
            let t = T0 + i * MINUTE;
            state.add_cpu_sample(vpa, name, "", t, cpu).expect("valid");
            state
                .add_memory_sample(vpa, name, "", t, mem)
                .expect("valid");
        }
    }
    state
}

fn add_sample(c: &mut Criterion) {
    let vpa = Vpa::new(VpaSpec::default()).expect("valid spec");
    let mut state = history(&vpa, 1440);
    let mut i = 1440i64;
    c.bench_function("vpa/add_cpu_and_memory_sample", |b| {
        b.iter(|| {
            i += 1;
            let (cpu, mem) = usage(i, 0);
            let t = T0 + i * MINUTE;
            black_box(
                state
                    .add_cpu_sample(&vpa, "app", "", t, cpu)
                    .expect("valid"),
            );
            black_box(
                state
                    .add_memory_sample(&vpa, "app", "", t, mem)
                    .expect("valid"),
            )
        });
    });
    let mut i = 1440i64;
    let mut state = history(&vpa, 1440);
    c.bench_function("vpa/observe_pod_3_containers", |b| {
        b.iter(|| {
            i += 1;
            let now = T0 + i * MINUTE;
            let obs: Vec<ContainerUsage> = CONTAINERS
                .iter()
                .enumerate()
                .map(|(c, name)| {
                    let (cpu, mem) = usage(i, c);
                    ContainerUsage {
                        container: (*name).to_owned(),
                        cpu_cores: Some(cpu as f64 / 1000.0),
                        memory_bytes: Some(mem as f64),
                        ..ContainerUsage::default()
                    }
                })
                .collect();
            black_box(state.observe(&vpa, now, black_box(&obs)).expect("valid"))
        });
    });
}

fn recommend(c: &mut Criterion) {
    let vpa = Vpa::new(VpaSpec::default()).expect("valid spec");
    let minutes = 8 * 1440;
    let state = history(&vpa, minutes);
    let now = T0 + minutes * MINUTE;
    let current: Vec<ContainerResources> = CONTAINERS
        .iter()
        .map(|name| ContainerResources {
            container: (*name).to_owned(),
            requests: Resources::new(500, 512 << 20),
            limits: Resources::new(1000, 1 << 30),
            ..ContainerResources::default()
        })
        .collect();
    c.bench_function("vpa/recommend_3_containers", |b| {
        b.iter(|| {
            black_box(
                vpa.recommend(black_box(&state), now, &current)
                    .expect("valid"),
            )
        });
    });
    let checkpoints = state.to_checkpoints(now);
    for (name, status) in &checkpoints {
        let bytes = serde_json::to_string(status).expect("serialises").len();
        println!("checkpoint size: {name}: {bytes} bytes of status JSON");
    }
    println!(
        "vpa state size: {} bytes of JSON for {} containers",
        state.to_json().len(),
        CONTAINERS.len()
    );
}

criterion_group!(benches, add_sample, recommend);
criterion_main!(benches);
