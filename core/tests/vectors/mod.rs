//! The conformance runners' shared loop (`conformance/`, `conformance_kpa.rs`,
//! `conformance_vpa.rs`): every vector of every `*.json` file in `testdata/vectors/<system>/`,
//! each through its group's runner, with per-group tallies.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;

/// The result of one vector: `Ok` or a description of the mismatch.
pub(crate) type Outcome = Result<(), String>;

/// The `*.json` files of `testdata/vectors/<system>/`, sorted; at least one.
fn files(system: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/vectors")
        .join(system);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());
    files
}

/// Runs every vector of `system` through `run` (a panic counts as a failure), checks each
/// file's `summary.total` when it has one, prints the passes per group, and returns the
/// failures as `group/name: why`.
pub(crate) fn run_all(system: &str, run: impl Fn(&Value) -> Outcome) -> Vec<String> {
    let mut per_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in files(system) {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let vectors = doc["vectors"].as_array().expect("a vectors array");
        if let Some(total) = doc["summary"]["total"].as_u64() {
            assert_eq!(
                vectors.len() as u64,
                total,
                "{}: summary.total",
                file.display()
            );
        }
        for vector in vectors {
            let group = vector["group"].as_str().unwrap_or("?").to_owned();
            let name = vector["name"].as_str().unwrap_or("?").to_owned();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(vector)))
                .unwrap_or_else(|_| Err("panicked".to_owned()));
            let entry = per_group.entry(group.clone()).or_default();
            entry.1 += 1;
            match outcome {
                Ok(()) => entry.0 += 1,
                Err(why) => failures.push(format!("{group}/{name}: {why}")),
            }
        }
    }
    let mut total = (0, 0);
    for (group, (passed, count)) in &per_group {
        println!("{system} {group:>22}: {passed}/{count} passed");
        total.0 += passed;
        total.1 += count;
    }
    println!("{system} {:>22}: {}/{} passed", "all", total.0, total.1);
    failures
}

/// Fails with every failure listed.
pub(crate) fn assert_none_failed(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} vector(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
