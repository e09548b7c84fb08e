//! Conformance: every vector of every `testdata/vectors/vpa/*.json` file through the public
//! `replicast::vpa` API, dispatched on `group`. Prints per-group pass counts; fails on any
//! mismatch or unknown group.
//!
//! Values are compared exactly. Two documented exceptions: the upstream estimator test's own
//! 5 % tolerance where the vector carries `relative_tolerance` (the `notes`' exact values are
//! asserted too), and bucket starts of `derived` / "within float rounding" vectors, which
//! were computed with C's libm `pow` while replicast reproduces Go's `math.Pow` (they differ in
//! the last bits; 1e-13 relative).

use std::collections::BTreeMap;

use replicast::spec::Quantity;
use replicast::vpa::capping::{self, Bounds};
use replicast::vpa::checkpoint::CheckpointStatus;
use replicast::vpa::decaying::DecayingHistogram;
use replicast::vpa::estimator;
use replicast::vpa::histogram::{Histogram, HistogramOptions, HistogramSpec};
use replicast::vpa::updater;
use replicast::vpa::{
    ContainerPolicy, ControlledValues, Resource, Resources, Vpa, VpaSpec, VpaState,
};
use serde_json::Value;

mod vectors;

use vectors::Outcome;

const HOUR: i64 = 3_600_000;
const MIB: i64 = 1 << 20;

fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok { Ok(()) } else { Err(what()) }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn options(v: &Value) -> HistogramOptions {
    let spec = match v["scheme"].as_str() {
        Some("linear") => HistogramSpec::Linear {
            max_value: f(&v["maxValue"]),
            bucket_size: f(&v["bucketSize"]),
            epsilon: f(&v["epsilon"]),
        },
        Some("exponential") => HistogramSpec::Exponential {
            max_value: f(&v["maxValue"]),
            first_bucket_size: f(&v["firstBucketSize"]),
            ratio: f(&v["ratio"]),
            epsilon: f(&v["epsilon"]),
        },
        other => panic!("unknown scheme {other:?}"),
    };
    HistogramOptions::new(spec).expect("valid histogram options")
}

/// A symbolic time (`"t0"`, `"start+20h"`, `"t0-2h"`, `"t0+30m"`) relative to `base`.
fn time(sym: &str, base: i64) -> i64 {
    let split = sym.find(['+', '-']);
    let Some(i) = split else { return base };
    let (sign, rest) = (if &sym[i..=i] == "-" { -1 } else { 1 }, &sym[i + 1..]);
    let (n, unit) = rest.split_at(rest.len() - 1);
    let n: i64 = n.parse().unwrap_or_else(|_| panic!("bad time {sym}"));
    let unit_ms = match unit {
        "h" => HOUR,
        "m" => 60_000,
        "s" => 1000,
        "d" => 24 * HOUR,
        _ => panic!("bad time unit in {sym}"),
    };
    base + sign * n * unit_ms
}

fn rfc(text: &str) -> i64 {
    replicast::vpa::time::parse_rfc3339(text).unwrap_or_else(|| panic!("bad time {text}"))
}

/// Close enough for bucket starts computed by another `pow` (see the file docs).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-13 * a.abs().max(b.abs())
}

fn run_histogram_options(v: &Value) -> Outcome {
    let o = options(&v["inputs"]);
    let e = &v["expected"];
    let loose = v["origin"] == "derived"
        || v["notes"]
            .as_str()
            .is_some_and(|n| n.contains("float rounding"));
    check(
        o.num_buckets() as u64 == e["numBuckets"].as_u64().unwrap(),
        || format!("numBuckets {} != {}", o.num_buckets(), e["numBuckets"]),
    )?;
    for (b, want) in e["bucketStart"].as_object().unwrap() {
        let got = o.bucket_start(b.parse().unwrap());
        let want = f(want);
        let ok = if loose { close(got, want) } else { got == want };
        check(ok, || format!("bucketStart({b}) {got:?} != {want:?}"))?;
    }
    for pair in e["findBucket"].as_array().unwrap() {
        let (value, want) = (f(&pair[0]), pair[1].as_u64().unwrap() as usize);
        let got = o.find_bucket(value);
        check(got == want, || {
            format!("findBucket({value}) {got} != {want}")
        })?;
    }
    Ok(())
}

fn histogram_of(o: HistogramOptions, samples: &Value) -> Histogram {
    let mut h = Histogram::new(o);
    for s in samples.as_array().unwrap() {
        h.add(f(&s[0]), f(&s[1]));
    }
    h
}

fn run_histogram(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let o = options(&i["options"]);
    match v["name"].as_str().unwrap() {
        "percentiles_empty" => {
            let h = histogram_of(o, &i["samples"]);
            for (p, want) in i["percentiles"]
                .as_array()
                .unwrap()
                .iter()
                .zip(v["expected"]["values"].as_array().unwrap())
            {
                let got = h.percentile(f(p));
                check(got == f(want), || {
                    format!("percentile({p}) {got} != {want}")
                })?;
            }
            check(h.is_empty(), || "empty histogram is not empty".into())
        }
        "percentile_out_of_bounds" => {
            let mut h = Histogram::new(o);
            for step in i["steps"].as_array().unwrap() {
                for s in step["add"].as_array().unwrap() {
                    h.add(f(&s[0]), f(&s[1]));
                }
                for q in step["query"].as_array().unwrap() {
                    let got = h.percentile(f(&q[0]));
                    // bucket ends are b × 0.1 in float64: compare to upstream's InEpsilon-free
                    // exact values (0.2, 0.3, 0.1, 1.0) as upstream's assert.Equal does
                    let want = f(&q[1]);
                    check(close(got, want), || {
                        format!("percentile({}) {got} != {want}", q[0])
                    })?;
                }
            }
            Ok(())
        }
        "is_empty_epsilon" => {
            let mut h = Histogram::new(o);
            let mut results = Vec::new();
            for op in i["ops"].as_array().unwrap() {
                match op[0].as_str().unwrap() {
                    "isEmpty" => results.push(Value::Bool(h.is_empty())),
                    "add" => h.add(f(&op[1]), f(&op[2])),
                    "subtract" => h.subtract(f(&op[1]), f(&op[2])),
                    other => panic!("unknown op {other}"),
                }
            }
            let want = v["expected"]["isEmpty_results"].as_array().unwrap();
            check(&results == want, || {
                format!("isEmpty {results:?} != {want:?}")
            })
        }
        "merge" => {
            let mut h1 = histogram_of(o, &i["h1"]);
            let h2 = histogram_of(o, &i["h2"]);
            h1.merge(&h2).map_err(|e| e.to_string())?;
            let want = histogram_of(o, &v["expected"]["merged_equals"]);
            check(h1.approx_eq(&want), || format!("{h1:?} != {want:?}"))
        }
        other => Err(format!("unknown histogram vector {other}")),
    }
}

fn weights_json(w: &BTreeMap<i64, i64>) -> Value {
    Value::Object(
        w.iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect(),
    )
}

fn run_checkpoint(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    match v["name"].as_str().unwrap() {
        "save_empty" | "save_drops_small" | "save_multiple" => {
            let h = histogram_of(options(&i["options"]), &i["samples"]);
            let (weights, total) = h.save();
            check(total == f(&e["totalWeight"]), || {
                format!("totalWeight {total} != {}", e["totalWeight"])
            })?;
            let got = weights_json(&weights);
            check(got == e["bucketWeights"], || {
                format!("bucketWeights {got} != {}", e["bucketWeights"])
            })
        }
        "load" => {
            let mut h = Histogram::new(options(&i["options"]));
            let cp = &i["checkpoint"];
            let weights: BTreeMap<i64, i64> = cp["bucketWeights"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.parse().unwrap(), v.as_i64().unwrap()))
                .collect();
            h.load(&weights, f(&cp["totalWeight"]), "histogram")
                .map_err(|e| e.to_string())?;
            check(h.total_weight() == f(&e["totalWeight"]), || {
                format!("totalWeight {}", h.total_weight())
            })?;
            for (b, want) in e["bucketWeight"].as_object().unwrap() {
                let got = h.bucket_weight(b.parse().unwrap());
                check(got == f(want), || format!("bucket {b}: {got} != {want}"))?;
            }
            Ok(())
        }
        "aggregate_state_save" => {
            let vpa = Vpa::new(VpaSpec::default()).unwrap();
            let t1 = rfc("2018-01-01T02:03:04Z");
            let t2 = t1 + HOUR;
            let at = |s: &str| if s == "t1" { t1 } else { t2 };
            let mut agg = vpa.new_aggregate(t1);
            for s in i["cpu_samples"].as_array().unwrap() {
                agg.cpu.add(f(&s[0]), f(&s[1]), at(s[2].as_str().unwrap()));
            }
            for s in i["memory_samples"].as_array().unwrap() {
                agg.memory
                    .add(f(&s[0]), f(&s[1]), at(s[2].as_str().unwrap()));
            }
            agg.first_sample_start_ms = Some(rfc(i["firstSampleStart"].as_str().unwrap()));
            agg.last_sample_start_ms = Some(rfc(i["lastSampleStart"].as_str().unwrap()));
            agg.total_samples_count = i["totalSamplesCount"].as_u64().unwrap();
            let cp = agg.save_checkpoint(t2);
            check(cp.version == e["version"], || {
                format!("version {}", cp.version)
            })?;
            check(
                cp.cpu_histogram.bucket_weights.len() as u64
                    == e["cpu_bucket_count"].as_u64().unwrap(),
                || format!("cpu buckets {:?}", cp.cpu_histogram.bucket_weights),
            )?;
            check(
                cp.memory_histogram.bucket_weights.len() as u64
                    == e["memory_bucket_count"].as_u64().unwrap(),
                || format!("memory buckets {:?}", cp.memory_histogram.bucket_weights),
            )?;
            check(
                cp.total_samples_count == e["totalSamplesCount"].as_i64().unwrap(),
                || format!("totalSamplesCount {}", cp.total_samples_count),
            )?;
            // and it loads back to the same checkpoint
            let mut back = vpa.new_aggregate(t2);
            back.load_checkpoint(&cp).map_err(|e| e.to_string())?;
            let again = back.save_checkpoint(t2);
            check(again == cp, || {
                format!("reload changed the checkpoint: {again:?}")
            })
        }
        "aggregate_state_version_mismatch" => {
            let vpa = Vpa::new(VpaSpec::default()).unwrap();
            let mut agg = vpa.new_aggregate(0);
            let cp = CheckpointStatus {
                version: i["version"].as_str().unwrap().to_owned(),
                ..CheckpointStatus::default()
            };
            match agg.load_checkpoint(&cp) {
                Err(err) if err.kind() == replicast::ErrorKind::Serialization => Ok(()),
                other => Err(format!("expected a serialization error, got {other:?}")),
            }
        }
        other => Err(format!("unknown checkpoint vector {other}")),
    }
}

fn duration(text: &str) -> i64 {
    time(&format!("x+{text}"), 0)
}

fn run_decaying(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let o = options(&i["options"]);
    let half_life = duration(i["halfLife"].as_str().unwrap());
    let start = i["start_unix"]
        .as_i64()
        .map_or(rfc("2017-04-18T17:35:05Z"), |s| s * 1000);
    let build = |samples: &Value| {
        let mut h = DecayingHistogram::new(o, half_life).unwrap();
        for s in samples.as_array().unwrap() {
            h.add(f(&s[0]), f(&s[1]), time(s[2].as_str().unwrap(), start));
        }
        h
    };
    if v["name"] == "merge" {
        let mut h1 = build(&i["h1"]);
        let h2 = build(&i["h2"]);
        h1.merge(&h2).map_err(|e| e.to_string())?;
        let want = build(&v["expected"]["merged_equals_single_histogram_of"]);
        return check(h1.approx_eq(&want), || format!("{h1:?} != {want:?}"));
    }
    let h = build(&i["samples"]);
    for pair in v["expected"]["percentiles"].as_array().unwrap() {
        let got = h.percentile(f(&pair[0]));
        check(got == f(&pair[1]), || {
            format!("percentile({}) {got} != {}", pair[0], pair[1])
        })?;
    }
    Ok(())
}

/// A number from a vector's `notes` following `marker` (e.g. `"-> "`, the n-th occurrence).
fn note_numbers(notes: &str) -> Vec<i64> {
    notes
        .split("-> ")
        .skip(1)
        .filter_map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

fn run_estimator(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    match v["name"].as_str().unwrap() {
        "percentile_estimator" => {
            let vpa = Vpa::new(VpaSpec::default()).unwrap();
            let mut agg = vpa.new_aggregate(0);
            let t = rfc("2017-04-18T17:35:05Z");
            for c in [1.0, 2.0, 3.0] {
                agg.cpu.add(c, 1.0, t);
            }
            for m in [1e9, 2e9, 3e9] {
                agg.memory.add(m, 1.0, t);
            }
            let cpu = estimator::cpu_amount_from_cores(agg.cpu.percentile(f(&i["cpu_percentile"])));
            let memory = estimator::memory_amount_from_bytes(
                agg.memory.percentile(f(&i["memory_percentile"])),
            );
            let tol = f(&e["relative_tolerance"]);
            let (want_cpu, want_mem) = (f(&e["cpu_cores"]) * 1000.0, f(&e["memory_bytes"]));
            check((cpu as f64 - want_cpu).abs() <= tol * want_cpu, || {
                format!("cpu {cpu}m not within {tol} of {want_cpu}")
            })?;
            check((memory as f64 - want_mem).abs() <= tol * want_mem, || {
                format!("memory {memory} not within {tol} of {want_mem}")
            })?;
            let exact = note_numbers(v["notes"].as_str().unwrap_or_default());
            check(exact == vec![cpu, memory], || {
                format!("exact values from notes {exact:?} != [{cpu}, {memory}]")
            })
        }
        "margin" => {
            let fraction = f(&i["marginFraction"]);
            let cpu = estimator::with_margin(
                estimator::cpu_amount_from_cores(f(&i["base_cpu_cores"])),
                fraction,
            );
            let memory = estimator::with_margin(
                estimator::memory_amount_from_bytes(f(&i["base_memory_bytes"])),
                fraction,
            );
            check(cpu == (f(&e["cpu_cores"]) * 1000.0).round() as i64, || {
                format!("cpu {cpu}m")
            })?;
            check(memory == f(&e["memory_bytes"]) as i64, || {
                format!("memory {memory}")
            })
        }
        other => Err(format!("unknown estimator vector {other}")),
    }
}

const T0: &str = "2024-01-01T00:00:00Z";

fn run_recommender(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    let t0 = rfc(T0);
    match v["name"].as_str().unwrap() {
        "min_resources_split" => {
            let mut spec = VpaSpec::default();
            spec.recommender.pod_min_cpu_millicores = f(&i["minCPUMillicores"]);
            spec.recommender.pod_min_memory_mb = f(&i["minMemoryMb"]);
            let vpa = Vpa::new(spec).unwrap();
            let mut state = VpaState::new();
            let n = i["containers"].as_u64().unwrap();
            let cpu_m = (f(&i["estimate_cpu_cores"]) * 1000.0) as i64;
            let mem = f(&i["estimate_memory_bytes"]) as i64;
            for c in 0..n {
                let name = format!("c{c}");
                state.add_cpu_sample(&vpa, &name, "", t0, cpu_m).unwrap();
                state.add_memory_sample(&vpa, &name, "", t0, mem).unwrap();
            }
            let rec = vpa.recommend(&state, t0, &[]).map_err(|e| e.to_string())?;
            check(rec.containers.len() as u64 == n, || format!("{rec:?}"))?;
            for c in &rec.containers {
                let want = Resources::new(
                    e["per_container_target_cpu_millicores"].as_i64().unwrap(),
                    e["per_container_target_memory_bytes"].as_i64().unwrap(),
                );
                check(c.target == want, || {
                    format!("{}: target {:?} != {want:?}", c.container, c.target)
                })?;
            }
            Ok(())
        }
        "controlled_resources_filter" => {
            let mut spec = VpaSpec::default();
            let mut policy = ContainerPolicy::new("app");
            policy.controlled_resources = Some(
                i["controlledResources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| resource(r.as_str().unwrap()))
                    .collect(),
            );
            spec.container_policies.push(policy);
            let vpa = Vpa::new(spec).unwrap();
            let mut state = VpaState::new();
            state.add_cpu_sample(&vpa, "app", "", t0, 500).unwrap();
            state
                .add_memory_sample(&vpa, "app", "", t0, 1 << 30)
                .unwrap();
            let rec = vpa.recommend(&state, t0, &[]).map_err(|e| e.to_string())?;
            let c = &rec.containers[0];
            let has = |r: &Resources, name: &str| r.get(resource(name)).is_some();
            for (key, r) in [
                ("target_has", &c.target),
                ("lower_has", &c.lower_bound),
                ("upper_has", &c.upper_bound),
            ] {
                for name in e[key].as_array().unwrap() {
                    check(has(r, name.as_str().unwrap()), || {
                        format!("{key} {name}: {r:?}")
                    })?;
                }
            }
            for name in e["target_lacks"].as_array().unwrap() {
                check(!has(&c.target, name.as_str().unwrap()), || {
                    format!("target has {name}")
                })?;
            }
            Ok(())
        }
        other => Err(format!("unknown recommender vector {other}")),
    }
}

fn resource(name: &str) -> Resource {
    match name {
        "cpu" => Resource::Cpu,
        "memory" => Resource::Memory,
        other => panic!("unknown resource {other}"),
    }
}

/// Replays expected histogram calls (`["add"|"sub", value, weight?, time]`) on a fresh
/// histogram like `like`, with values scaled by `scale`.
fn replay(like: &DecayingHistogram, calls: &Value, t0: i64, scale: f64) -> DecayingHistogram {
    let mut h = DecayingHistogram::new(*like.histogram().options(), like.half_life_ms()).unwrap();
    for c in calls.as_array().unwrap() {
        let items = c.as_array().unwrap();
        let value = f(&items[1]) * scale;
        let (weight, t) = if items.len() == 4 {
            (f(&items[2]), items[3].as_str().unwrap())
        } else {
            (1.0, items[2].as_str().unwrap())
        };
        match items[0].as_str().unwrap() {
            "add" => h.add(value, weight, time(t, t0)),
            "sub" => h.subtract(value, weight, time(t, t0)),
            other => panic!("unknown call {other}"),
        }
    }
    h
}

fn interval_spec(i: &Value) -> VpaSpec {
    let mut spec = VpaSpec::default();
    if let Some(text) = i["interval"].as_str() {
        spec.recommender.memory_aggregation_interval_s = (duration(text) / 1000) as u32;
    }
    if let Some(r) = i["oomBumpUpRatio"].as_f64() {
        spec.recommender.oom_bump_up_ratio = r;
    }
    if let Some(m) = i["oomMinBumpUp_MiB"].as_f64() {
        spec.recommender.oom_min_bump_up_bytes = m * MIB as f64;
    }
    spec
}

fn run_memory_and_oom(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    let vpa = Vpa::new(interval_spec(i)).unwrap();
    let t0 = i["t0"].as_str().map_or(rfc("2017-04-18T17:35:05Z"), rfc);
    let unit = if i["units"] == "MiB" { MIB } else { 1 };
    let mut state = VpaState::new();
    let ops = if i["samples"].is_array() {
        &i["samples"]
    } else {
        &i["ops"]
    };
    let mut accepted = Vec::new();
    let mut oom_error = false;
    for op in ops.as_array().unwrap() {
        let kind = op[0].as_str().unwrap();
        let t = time(op[1].as_str().unwrap(), t0);
        let value = op[2].as_i64().unwrap();
        let ok = match kind {
            "cpu" => state.add_cpu_sample(&vpa, "c", "pod", t, value),
            "mem" => state.add_memory_sample(&vpa, "c", "pod", t, value * unit),
            "oom" => state.record_oom(&vpa, "c", "pod", t, value * unit),
            other => panic!("unknown op {other}"),
        }
        .map_err(|e| e.to_string())?;
        if kind == "oom" && !ok {
            oom_error = true;
        }
        accepted.push(Value::Bool(ok));
    }
    if let Some(want) = e["accepted"].as_array() {
        check(&accepted == want, || {
            format!("accepted {accepted:?} != {want:?}")
        })?;
    }
    check(
        oom_error == e["oom_error"].as_bool().unwrap_or(false),
        || format!("oom discarded: {oom_error}"),
    )?;
    let agg = &state.container("c").unwrap().aggregate;
    let memory = replay(&agg.memory, &e["memory_histogram_calls"], t0, unit as f64);
    check(memory == agg.memory, || {
        format!("memory histogram {:?} != expected {:?}", agg.memory, memory)
    })?;
    if e["cpu_histogram_calls"].is_array() {
        let cpu = replay(&agg.cpu, &e["cpu_histogram_calls"], t0, 1.0);
        check(cpu == agg.cpu, || {
            format!("cpu histogram {:?} != {:?}", agg.cpu, cpu)
        })?;
    }
    Ok(())
}

/// A vector quantity in `resource`'s unit (CPU millicores, memory bytes).
fn amount(resource: Resource, v: &Value) -> Option<i64> {
    let text = v.as_str()?;
    Some(resource.amount_of(Quantity::parse(text).unwrap_or_else(|e| panic!("{e}"))))
}

fn resources(v: &Value) -> Resources {
    let mut r = Resources::default();
    if v.is_object() {
        for res in Resource::ALL {
            r.set(res, amount(res, &v[res.as_str()]));
        }
    }
    r
}

fn run_capping(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    let name = v["name"].as_str().unwrap();
    if name == "requests_only_caps_to_limit" {
        let limits = resources(&i["containerLimits"]);
        for mode in i["controlledValues"].as_array().unwrap() {
            let mode = mode.as_str().unwrap();
            let values = if mode == "RequestsOnly" {
                ControlledValues::RequestsOnly
            } else {
                ControlledValues::RequestsAndLimits
            };
            let mut target = resources(&i["target"]);
            let mut upper = resources(&i["upperBound"]);
            let mut notes = Vec::new();
            if values == ControlledValues::RequestsOnly {
                notes = capping::cap_to_limits(&mut target, &limits);
                capping::cap_to_limits(&mut upper, &limits);
            }
            let want = &e[mode];
            check(target == resources(&want["target"]), || {
                format!("{mode}: target {target:?}")
            })?;
            check(upper == resources(&want["upperBound"]), || {
                format!("{mode}: upper {upper:?}")
            })?;
            let want_notes: Vec<String> = want["annotation"]
                .as_str()
                .map(str::to_owned)
                .into_iter()
                .collect();
            check(notes == want_notes, || {
                format!("{mode}: annotations {notes:?}")
            })?;
        }
        return Ok(());
    }
    let rec = &i["recommendation"];
    let mut bounds = Bounds {
        target: resources(&rec["target"]),
        lower_bound: resources(&rec["lowerBound"]),
        upper_bound: resources(&rec["upperBound"]),
        uncapped_target: resources(&rec["target"]),
    };
    let policy_json = if i["policy"].is_object() {
        &i["policy"]
    } else {
        &i["containerPolicy"]
    };
    let policy = policy_json.is_object().then(|| {
        let mut p = ContainerPolicy::new("c");
        p.min_allowed = resources(&policy_json["minAllowed"]);
        p.max_allowed = resources(&policy_json["maxAllowed"]);
        p
    });
    let global = resources(&i["globalMaxAllowed"]);
    let notes = capping::apply_vpa_policy(&mut bounds, policy.as_ref(), &global);
    check(bounds.target == resources(&e["target"]), || {
        format!("target {:?}", bounds.target)
    })?;
    check(bounds.lower_bound == resources(&e["lowerBound"]), || {
        format!("lower {:?}", bounds.lower_bound)
    })?;
    check(bounds.upper_bound == resources(&e["upperBound"]), || {
        format!("upper {:?}", bounds.upper_bound)
    })?;
    if e["uncappedTarget"].is_object() {
        check(
            bounds.uncapped_target == resources(&e["uncappedTarget"]),
            || format!("uncapped {:?}", bounds.uncapped_target),
        )?;
    }
    if let Some(want) = e["annotations"].as_array() {
        let want: Vec<String> = want
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect();
        check(notes == want, || {
            format!("annotations {notes:?} != {want:?}")
        })?;
    }
    Ok(())
}

fn run_proportional_limit(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    let res = resource(i["resource"].as_str().unwrap());
    let got = capping::proportional_limit(
        res,
        amount(res, &i["originalLimit"]),
        amount(res, &i["originalRequest"]),
        amount(res, &i["recommendedRequest"]),
        amount(res, &i["defaultLimit"]),
    );
    let want = match e["limit"].as_str() {
        None => None,
        Some(s) if s.starts_with("MaxInt64") => Some(i64::MAX),
        Some(_) => amount(res, &e["limit"]),
    };
    check(got.limit == want, || {
        format!("limit {:?} != {want:?}", got.limit)
    })?;
    check(
        got.annotation.is_some() == e["annotation"].as_bool().unwrap(),
        || format!("annotation {:?}", got.annotation),
    )
}

fn run_updater(v: &Value) -> Outcome {
    let i = &v["inputs"];
    let e = &v["expected"];
    let containers: Vec<(Resources, Bounds)> = if let Some(list) = i["containers"].as_array() {
        list.iter()
            .map(|c| {
                (
                    resources(&c["request"]),
                    Bounds {
                        target: resources(&c["target"]),
                        ..Bounds::default()
                    },
                )
            })
            .collect()
    } else {
        vec![(
            resources(&i["podRequests"]),
            Bounds {
                target: resources(&i["target"]),
                lower_bound: resources(&i["lowerBound"]),
                upper_bound: resources(&i["upperBound"]),
                uncapped_target: Resources::default(),
            },
        )]
    };
    let p = updater::update_priority(&containers);
    if let Some(want) = e["outsideRecommendedRange"].as_bool() {
        check(p.outside_recommended_range == want, || {
            format!("outside {p:?}")
        })?;
    }
    check(p.scale_up == e["scaleUp"].as_bool().unwrap(), || {
        format!("scaleUp {p:?}")
    })?;
    // upstream asserts InDelta(…, 0.0001)? no: assert.Equal on the float; exact here
    let want = f(&e["resourceDiff"]);
    check(p.resource_diff == want, || {
        format!("resourceDiff {} != {want}", p.resource_diff)
    })
}

fn run_derived(v: &Value) -> Outcome {
    let i = &v["inputs"];
    if i["scheme"].is_string() {
        return run_histogram_options(v);
    }
    let e = &v["expected"];
    let vpa = Vpa::new(VpaSpec::default()).unwrap();
    let mut state = VpaState::new();
    let start = rfc(i["start"].as_str().unwrap());
    let every = duration(i["sample_every"].as_str().unwrap());
    let n = i["samples"].as_i64().unwrap();
    let mut t = start;
    for k in 0..n {
        t = start + k * every;
        let cpu = i["cpu_millicores"].as_i64().unwrap();
        let mem = i["memory_bytes"].as_i64().unwrap();
        check(
            state.add_cpu_sample(&vpa, "app", "", t, cpu).unwrap(),
            || "cpu rejected".into(),
        )?;
        check(
            state.add_memory_sample(&vpa, "app", "", t, mem).unwrap(),
            || "memory rejected".into(),
        )?;
    }
    let rec = vpa.recommend(&state, t, &[]).map_err(|e| e.to_string())?;
    let c = &rec.containers[0];
    let conf = f(&e["confidence"]);
    check(
        c.cpu_confidence == conf && c.memory_confidence == conf,
        || {
            format!(
                "confidence {} / {} != {conf}",
                c.cpu_confidence, c.memory_confidence
            )
        },
    )?;
    for (key, got) in [
        ("target", c.target),
        ("lowerBound", c.lower_bound),
        ("upperBound", c.upper_bound),
    ] {
        let want = Resources::new(
            e[key]["cpu_m"].as_i64().unwrap(),
            e[key]["mem_b"].as_i64().unwrap(),
        );
        check(got == want, || format!("{key} {got:?} != {want:?}"))?;
    }
    Ok(())
}

fn run_vector(vector: &Value) -> Outcome {
    match vector["group"].as_str().unwrap_or_default() {
        "histogram_options" => run_histogram_options(vector),
        "histogram" => run_histogram(vector),
        "checkpoint" => run_checkpoint(vector),
        "decaying_histogram" => run_decaying(vector),
        "estimator" => run_estimator(vector),
        "recommender" => run_recommender(vector),
        "memory_peaks" | "oom" => run_memory_and_oom(vector),
        "capping" => run_capping(vector),
        "proportional_limit" => run_proportional_limit(vector),
        "updater_priority" => run_updater(vector),
        "derived" => run_derived(vector),
        other => Err(format!("unknown vector group {other:?}")),
    }
}

#[test]
fn every_vpa_vector_passes() {
    vectors::assert_none_failed(&vectors::run_all("vpa", run_vector));
}
