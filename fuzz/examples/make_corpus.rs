//! Writes the committed seed corpora, `fuzz/corpus/<target>/seed-*`, from the repository's
//! specs, inputs, vectors and traces, from states and models the library produces, and from a
//! handful of edge cases. Files not named `seed-*` (the inputs of findings) are left alone.
//!
//! ```sh
//! cargo run --manifest-path fuzz/Cargo.toml --example make_corpus
//! ```

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use replicast::forecast::{Fit, ModelSpec};
use replicast::vpa::{VerticalPodAutoscalerCheckpoint, Vpa, VpaSpec, VpaState};
use replicast::{DecisionInput, Scaler, ScalerSpec, ScalerState};
use serde_json::{Value, json};

/// Seeds larger than this are skipped: small inputs fuzz faster.
const MAX_SEED: usize = 8 * 1024;

struct Corpus {
    dir: PathBuf,
    written: BTreeSet<String>,
}

impl Corpus {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join("corpus").join(target);
        fs::create_dir_all(&dir).expect("create the corpus directory");
        for entry in fs::read_dir(&dir)
            .expect("read the corpus directory")
            .flatten()
        {
            if entry.file_name().to_string_lossy().starts_with("seed-") {
                fs::remove_file(entry.path()).expect("remove a stale seed");
            }
        }
        Self {
            dir,
            written: BTreeSet::new(),
        }
    }

    fn add(&mut self, name: &str, bytes: impl AsRef<[u8]>) {
        let bytes = bytes.as_ref();
        if bytes.len() > MAX_SEED {
            eprintln!("skipped seed-{name}: {} bytes", bytes.len());
            return;
        }
        let name = format!("seed-{name}");
        assert!(self.written.insert(name.clone()), "two seeds named {name}");
        fs::write(self.dir.join(&name), bytes).expect("write a seed");
    }
}

fn read(repo: &Path, path: &str) -> String {
    fs::read_to_string(repo.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_json(repo: &Path, path: &str) -> Value {
    serde_json::from_str(&read(repo, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn stem(path: &str) -> String {
    Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

const SPEC_FILES: &[&str] = &[
    "testdata/seed/hpa.yaml",
    "testdata/seed/thresholds.yaml",
    "testdata/seed/threshold-presets.yaml",
    "testdata/seed/vpa.yaml",
    "examples/specs/hpa-vpa.yaml",
    "examples/specs/keda-scaledobject.yaml",
    "examples/specs/knative-service.yaml",
    "examples/specs/predictive-slo.yaml",
];

/// The spec files with the observation each is decided with in the C ABI seeds.
const SPEC_INPUTS: &[(&str, &str)] = &[
    (
        "testdata/seed/hpa.yaml",
        "examples/inputs/seed-hpa-observation.json",
    ),
    (
        "testdata/seed/thresholds.yaml",
        "examples/inputs/seed-threshold-observation.json",
    ),
    (
        "examples/specs/hpa-vpa.yaml",
        "examples/inputs/hpa-vpa-observation.json",
    ),
    (
        "examples/specs/keda-scaledobject.yaml",
        "examples/inputs/keda-observation.json",
    ),
    (
        "examples/specs/knative-service.yaml",
        "examples/inputs/kpa-observation.json",
    ),
];

fn spec_parse(repo: &Path, fuzz: &Path) {
    let mut c = Corpus::new(fuzz, "spec_parse");
    for path in SPEC_FILES {
        let text = read(repo, path);
        c.add(&format!("{}.yaml", stem(path)), &text);
        // replicast's own form of the same spec
        let spec = ScalerSpec::from_yaml(&text).expect("a shipped spec loads");
        c.add(&format!("{}-own.json", stem(path)), spec.to_json());
    }
    let sources = read_json(repo, "testdata/vectors/api/sources.json");
    for s in sources["scenarios"].as_array().expect("scenarios") {
        let name = s["name"].as_str().expect("name");
        c.add(&format!("sources-{name}.json"), s["spec"].to_string());
    }
    // reconcile vectors: one spec per distinct shape (the metric kinds, behavior or not)
    let reconcile = read_json(repo, "testdata/vectors/api/reconcile.json");
    let mut shapes = BTreeSet::new();
    for v in reconcile["vectors"].as_array().expect("vectors") {
        let spec = &v["spec"];
        let kinds: Vec<String> = spec["hpa"]["metrics"]
            .as_array()
            .map(|m| m.iter().map(|x| x["type"].to_string()).collect())
            .unwrap_or_default();
        let shape = format!(
            "{kinds:?}{}{}",
            spec["behavior"].is_null(),
            spec["controller"].is_null()
        );
        if shapes.insert(shape) && shapes.len() <= 8 {
            let name = v["name"].as_str().expect("name");
            c.add(&format!("reconcile-{name}.json"), spec.to_string());
        }
    }
    // manifests as JSON, and a multi-document Knative file with the cluster's ConfigMap
    c.add(
        "hpa-manifest.json",
        json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "web"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                "minReplicas": 1, "maxReplicas": 10,
                "metrics": [
                    {"type": "Pods", "pods": {"metric": {"name": "rps"}, "target": {"type": "AverageValue", "averageValue": "500m"}}},
                    {"type": "External", "external": {"metric": {"name": "queue"}, "target": {"type": "Value", "value": "30"}}},
                    {"type": "ContainerResource", "containerResource": {"name": "memory", "container": "app", "target": {"type": "Utilization", "averageUtilization": 60}}}
                ],
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max", "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}, {"type": "Pods", "value": 4, "periodSeconds": 15}]},
                    "scaleDown": {"stabilizationWindowSeconds": 300, "tolerance": "0.05", "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]}
                }
            }
        })
        .to_string(),
    );
    c.add(
        "knative-with-config-map.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config-autoscaler, namespace: knative-serving}\n\
         data: {stable-window: \"30s\", panic-window-percentage: \"20\", scale-to-zero-grace-period: \"10s\"}\n\
         ---\napiVersion: serving.knative.dev/v1\nkind: Revision\nmetadata:\n  name: r1\n  annotations:\n    \
         autoscaling.knative.dev/metric: rps\n    autoscaling.knative.dev/target: \"150\"\n    \
         autoscaling.knative.dev/max-scale: \"8\"\nspec: {containerConcurrency: 0}\n",
    );
    // edge cases
    for (name, text) in [
        ("empty.txt", ""),
        ("documents-only.yaml", "---\n---\n...\n"),
        ("null.json", "null"),
        ("empty-object.json", "{}"),
        ("max-u32.json", r#"{"max_replicas": 4294967295, "hpa": {}}"#),
        (
            "alias.yaml",
            "max_replicas: &m 5\nmin_replicas: *m\nhpa: &h {}\n",
        ),
        (
            "nan-threshold.yaml",
            "max_replicas: 10\nthreshold: {rules: [{signal: cpu, scale_up_above: .nan}]}\n",
        ),
        (
            "keda-formula.json",
            r#"{"max_replicas": 9, "min_replicas": 0, "keda": {"triggers": [{"name": "q", "type": "prometheus", "metric_type": "average_value", "target": 1}], "scaling_modifiers": {"formula": "q > 2 ? q * 1e308 : -q", "target": 1}}}"#,
        ),
        (
            "seed-flat-odd.yaml",
            "cpu_threshold_up: 1e309%\ncpu_threshold_down: -5%\nscale_up_cooldown: 99999999999s\n",
        ),
    ] {
        c.add(&format!("edge-{name}"), text);
    }
    c.add("edge-deep.json", "[".repeat(300));
}

/// A predictive scaler's state after `n` decisions on a wave (with its fitted model).
fn predictive_state(repo: &Path, n: usize) -> ScalerState {
    let mut spec = ScalerSpec::from_yaml(&read(repo, "examples/specs/predictive-slo.yaml"))
        .expect("the predictive example loads");
    // a short warm-up, so that the state carries a fitted model
    if let Some(p) = spec.predictive.as_mut() {
        p.warmup_samples = 16;
    }
    let scaler = Scaler::new(spec).expect("the predictive example builds");
    let mut state = ScalerState::new();
    for i in 0..n {
        let load = 200.0 + 150.0 * (i as f64 / 12.0).sin();
        let input = DecisionInput {
            now_ms: replicast_fuzz::NOW_MS + 30_000 * i as i64,
            current_replicas: 6,
            ready_replicas: Some(6),
            metrics: vec![replicast::hpa::MetricInput::Aggregated {
                value: 60.0,
                ready_replicas: 6,
            }],
            load: Some(load),
            ..DecisionInput::default()
        };
        scaler
            .decide(&mut state, &input)
            .expect("a predictive decision");
    }
    state
}

/// Fitted models of the forecast vectors that fit: `(name, model spec, series, fitted JSON)`.
fn fitted_models(repo: &Path) -> Vec<(String, Value, Vec<f64>, String)> {
    let forecast = read_json(repo, "testdata/vectors/api/forecast.json");
    let mut out = Vec::new();
    for v in forecast["vectors"].as_array().expect("vectors") {
        let Ok(spec) = serde_json::from_value::<ModelSpec>(v["spec"].clone()) else {
            continue;
        };
        let y: Vec<f64> = serde_json::from_value(v["y"].clone()).expect("y");
        if let Ok(fitted) = spec.fit(&y) {
            let name = v["name"].as_str().expect("name").to_owned();
            let text = serde_json::to_string(&fitted).expect("fitted JSON");
            out.push((name, v["spec"].clone(), y, text));
        }
    }
    out
}

fn state_restore(repo: &Path, fuzz: &Path) {
    let mut c = Corpus::new(fuzz, "state_restore");
    let sources = read_json(repo, "testdata/vectors/api/sources.json");
    for s in sources["scenarios"].as_array().expect("scenarios") {
        let name = s["name"].as_str().expect("name");
        let state = &s["state_after"];
        c.add(&format!("scaler-state-{name}.json"), state.to_string());
        if !state["kpa"].is_null() {
            c.add("kpa-state.json", state["kpa"].to_string());
        }
        if !state["vpa"].is_null() {
            let text = state["vpa"].to_string();
            c.add("vpa-state.json", &text);
            // its checkpoints, as serde data and as VerticalPodAutoscalerCheckpoint objects
            let vpa = VpaState::from_json(&text).expect("the vector's VPA state loads");
            for (container, status) in vpa.to_checkpoints(replicast_fuzz::NOW_MS) {
                c.add(
                    &format!("checkpoint-status-{container}.json"),
                    serde_json::to_string(&status).expect("checkpoint JSON"),
                );
                let object = VerticalPodAutoscalerCheckpoint::new("web", &container, status);
                c.add(
                    &format!("checkpoint-object-{container}.json"),
                    serde_json::to_string_pretty(&object).expect("checkpoint object JSON"),
                );
            }
        }
    }
    let reconcile = read_json(repo, "testdata/vectors/api/reconcile.json");
    for v in reconcile["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .step_by(17)
    {
        let name = v["name"].as_str().expect("name");
        c.add(
            &format!("scaler-state-reconcile-{name}.json"),
            v["state_after"].to_string(),
        );
    }
    c.add(
        "scaler-state-predictive.json",
        predictive_state(repo, 24).to_json(),
    );
    for (name, _, _, text) in fitted_models(repo) {
        c.add(&format!("fitted-{name}.json"), text);
    }
    // a VPA state the default VPA filled, with an OOM
    let vpa = Vpa::new(VpaSpec::default()).expect("the default VPA");
    let mut state = VpaState::new();
    let usage: Vec<replicast::vpa::ContainerUsage> = serde_json::from_value(json!([
        {"container": "app", "pod": "app-0", "cpu_cores": 0.25, "memory_bytes": 1.5e8},
        {"container": "app", "pod": "app-1", "cpu_cores": 1.5, "memory_bytes": 4.0e8, "oom_requested_memory_bytes": 5.0e8}
    ]))
    .expect("usage");
    state
        .observe(&vpa, replicast_fuzz::NOW_MS, &usage)
        .expect("VPA observations");
    c.add("vpa-state-oom.json", state.to_json());
    c.add(
        "checkpoint-object.yaml",
        "apiVersion: autoscaling.k8s.io/v1\nkind: VerticalPodAutoscalerCheckpoint\nmetadata: {name: web-app}\n\
         spec: {vpaObjectName: web, containerName: app}\nstatus:\n  version: v3\n  \
         lastUpdateTime: \"2024-01-02T00:00:00Z\"\n  cpuHistogram:\n    referenceTimestamp: \"2024-01-02T00:00:00Z\"\n    \
         bucketWeights: {\"25\": 10000, \"30\": 1200}\n    totalWeight: 14.4\n  memoryHistogram:\n    \
         referenceTimestamp: \"2024-01-03T00:00:00Z\"\n    bucketWeights: {\"26\": 10000}\n    totalWeight: 1.0\n  \
         firstSampleStart: \"2024-01-01T00:00:00Z\"\n  lastSampleStart: \"2024-01-01T23:59:00Z\"\n  totalSamplesCount: 1440\n",
    );
    for (name, text) in [
        ("version-only.json", r#"{"version": 1}"#),
        ("version-2.json", r#"{"version": 2}"#),
        ("empty-object.json", "{}"),
        ("fitted-kind-only.json", r#"{"kind": "seasonal_naive"}"#),
        (
            "fitted-short-ring.json",
            r#"{"kind": "seasonal_naive", "period": 4, "last": [1.0], "pos": 3, "n": 4, "sse": 0.0, "n_err": 0}"#,
        ),
        (
            "checkpoint-bad-bucket.json",
            r#"{"version": "v3", "cpuHistogram": {"bucketWeights": {"-1": 10000, "99999": 5}, "totalWeight": 1e308}}"#,
        ),
    ] {
        c.add(&format!("edge-{name}"), text);
    }
}

fn trace_read(repo: &Path, fuzz: &Path) {
    let mut c = Corpus::new(fuzz, "trace_read");
    for path in [
        "testdata/traces/azure_functions2019_day_1min.csv",
        "testdata/traces/nab_ec2_cpu_ac20cd_5min.csv",
        "testdata/traces/nasa_http_1995jul10-16_1min.csv",
    ] {
        let text = read(repo, path);
        let head: Vec<&str> = text.lines().take(8).collect();
        c.add(&format!("{}.csv", stem(path)), head.join("\n") + "\n");
    }
    let nasa = read(repo, "testdata/traces/nasa_http_1995jul10-16_1min.csv");
    let points: Vec<(i64, f64)> = nasa
        .lines()
        .skip(1)
        .take(6)
        .filter_map(|l| {
            let (t, v) = l.split_once(',')?;
            Some((t.parse().ok()?, v.parse().ok()?))
        })
        .collect();
    let series = |scale: f64| -> Value {
        json!({"metric": {"job": "web"}, "values": points.iter().map(|(t, v)| json!([*t as f64, format!("{}", v * scale)])).collect::<Vec<_>>()})
    };
    c.add(
        "prometheus-one-series.json",
        json!({"status": "success", "data": {"resultType": "matrix", "result": [series(1.0)]}})
            .to_string(),
    );
    c.add(
        "prometheus-two-series.json",
        json!({"status": "success", "data": {"resultType": "matrix", "result": [series(1.0), series(0.5)]}})
            .to_string(),
    );
    for (name, text) in [
        ("header-only.csv", "timestamp,value\n"),
        ("irregular.csv", "timestamp,value\n0,1\n60,2\n180,3\n"),
        ("duplicate.csv", "timestamp,value\n0,1\n0,2\n"),
        ("negative.csv", "timestamp,value\n0,1\n60,-2\n"),
        ("overflow-value.csv", "TIMESTAMP,VALUE\n0,1e999\n60,2\n"),
        (
            "huge-step.csv",
            "timestamp,value\n-4611686018427387904,1\n0,5\n4611686018427387904,2\n",
        ),
        ("one-second.csv", "timestamp,value\n1,0\n2,0\n3,1000000\n"),
        (
            "prometheus-nan.json",
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"values":[[1.5e9,"NaN"],[1.5e9,"+Inf"]]}]}}"#,
        ),
        (
            "prometheus-error.json",
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        ),
    ] {
        c.add(&format!("edge-{name}"), text);
    }
}

/// One C ABI seed: the control bytes, the five text fields, then the numbers.
struct AbiSeed {
    ctl: [u8; 12],
    fields: [String; 5],
    now_ms: i64,
    replicas: u32,
    values: Vec<f64>,
    level: f64,
    update: f64,
    y: Vec<f64>,
}

impl AbiSeed {
    fn bytes(&self) -> Vec<u8> {
        let mut ctl = self.ctl;
        ctl[8] = self.values.len() as u8;
        let mut out = ctl.to_vec();
        for f in &self.fields {
            assert!(!f.contains('\0'));
            out.extend_from_slice(f.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(&self.now_ms.to_le_bytes());
        for _ in 0..3 {
            out.extend_from_slice(&self.replicas.to_le_bytes());
        }
        out.push(1);
        for v in self
            .values
            .iter()
            .chain([&self.level, &self.update])
            .chain(&self.y)
        {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }
}

fn c_abi(repo: &Path, fuzz: &Path) {
    let mut c = Corpus::new(fuzz, "c_abi");
    let models = fitted_models(repo);
    let sources = read_json(repo, "testdata/vectors/api/sources.json");
    let state_of = |name: &str| -> String {
        sources["scenarios"]
            .as_array()
            .expect("scenarios")
            .iter()
            .find(|s| s["name"].as_str().is_some_and(|n| n.contains(name)))
            .map(|s| s["state_after"].to_string())
            .unwrap_or_default()
    };
    // control: 64 KiB buffer, horizon 6, level 0.9 (230/255), health 1
    let base_ctl = [0, 0, 255, 0, 6, 230, 0, 1, 0, 0, 0, 0];
    let mut seeds = Vec::new();
    for (i, (spec_path, input_path)) in SPEC_INPUTS.iter().enumerate() {
        let spec = ScalerSpec::from_yaml(&read(repo, spec_path)).expect("a shipped spec loads");
        let input: Value = read_json(repo, input_path);
        let metric_count = Scaler::new(spec.clone())
            .expect("a shipped spec builds")
            .metric_input_count();
        let state = match *spec_path {
            p if p.contains("keda") => state_of("keda-scaledobject"),
            p if p.contains("knative") => state_of("kpa"),
            p if p.contains("hpa-vpa") => state_of("hpa-vpa"),
            _ => String::new(),
        };
        let (_, model_spec, y, fitted) = &models[i % models.len()];
        seeds.push((
            format!("{}", stem(spec_path)),
            AbiSeed {
                ctl: base_ctl,
                fields: [
                    serde_json::to_string(&spec).expect("spec JSON"),
                    state,
                    input.to_string(),
                    model_spec.to_string(),
                    fitted.clone(),
                ],
                now_ms: input["now_ms"].as_i64().unwrap_or(replicast_fuzz::NOW_MS),
                replicas: 4,
                values: vec![85.0; metric_count],
                level: 0.9,
                update: 42.0,
                y: y.clone(),
            },
        ));
    }
    // variations on the first seed: NULLs with lengths, small buffers, bad enums and counts
    let variations: &[(&str, usize, u8)] = &[
        ("null-spec-with-length", 0, 0b0000_0001),
        ("null-input-with-length", 0, 0b0000_0100),
        ("null-series-and-values", 0, 0b0110_0000),
        ("no-err-out", 0, 0b1000_0000),
        ("buffer-16-bytes", 2, 1),
        ("buffer-none", 2, 0),
        ("null-buffer-with-length", 3, 0b0000_0001),
        ("null-out-needed-and-out", 3, 0b0000_0110),
        ("null-state-and-agg-input", 3, 0b0001_1000),
        ("null-point-and-bounds", 3, 0b0110_0000),
        ("wrong-batch-count", 3, 0b1000_0000),
        ("health-7", 7, 7),
        ("horizon-0", 4, 0),
        ("out-len-short", 6, 0xFF),
    ];
    let first = &seeds[0].1;
    let mut extra = Vec::new();
    for (name, byte, value) in variations {
        let mut ctl = first.ctl;
        ctl[*byte] = *value;
        if *byte == 0 {
            ctl[1] = 7;
        }
        extra.push((
            (*name).to_owned(),
            AbiSeed {
                ctl,
                fields: first.fields.clone(),
                values: first.values.clone(),
                y: first.y.clone(),
                ..*first
            },
        ));
    }
    extra.push((
        "level-nan-update-inf".to_owned(),
        AbiSeed {
            ctl: [0, 0, 255, 0, 3, 255, 0, 0, 0, 0, 0, 0],
            fields: first.fields.clone(),
            values: vec![f64::NAN, -1.0],
            level: f64::NAN,
            update: f64::INFINITY,
            y: first.y.clone(),
            ..*first
        },
    ));
    for (name, seed) in seeds.into_iter().chain(extra) {
        c.add(&format!("{name}.bin"), seed.bytes());
    }
}

fn main() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"));
    let repo = fuzz.parent().expect("fuzz/ is in the repository");
    spec_parse(repo, fuzz);
    state_restore(repo, fuzz);
    trace_read(repo, fuzz);
    c_abi(repo, fuzz);
    for target in ["spec_parse", "state_restore", "trace_read", "c_abi"] {
        let dir = fuzz.join("corpus").join(target);
        let (n, bytes) = fs::read_dir(&dir)
            .expect("corpus directory")
            .flatten()
            .fold((0, 0), |(n, b), e| {
                (n + 1, b + e.metadata().map(|m| m.len()).unwrap_or(0))
            });
        println!("{target}: {n} files, {bytes} bytes");
    }
}
