//! The `replicast` binary end to end: exit codes and output on the seed's examples.

use std::fmt::Write as _;
use std::process::Command;

fn repo(path: &str) -> String {
    format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))
}

fn replicast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_replicast"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn recommend_on_the_seed_hpa() {
    let (ok, out, err) = replicast(&[
        "recommend",
        "--spec",
        &repo("testdata/seed/hpa.yaml"),
        "--input",
        &repo("examples/inputs/seed-hpa-observation.json"),
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("scale 4 -> 6\n"), "{out}");
    assert!(
        out.contains("object metric ai_agent_queue_depth: 6"),
        "{out}"
    );
}

#[test]
fn recommend_and_validate_a_keda_scaled_object() {
    let spec = repo("examples/specs/keda-scaledobject.yaml");
    let (ok, out, err) = replicast(&["validate", "--spec", &spec]);
    assert!(ok, "{err}");
    assert!(
        out.contains("keda (2 triggers: prometheus queue, prometheus latency; cooldown 120s, fallback 6 replicas after 3 failures)"),
        "{out}"
    );
    let (ok, out, err) = replicast(&[
        "recommend",
        "--spec",
        &spec,
        "--input",
        &repo("examples/inputs/keda-observation.json"),
        "--json",
    ]);
    assert!(ok, "{err}");
    let decision: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decision["replicas"], 6);
    assert_eq!(decision["proposals"][0]["source"], "keda");
    assert_eq!(decision["keda"]["active"], true);
    assert_eq!(decision["keda"]["triggers"][0]["value"], 130.0);
}

#[test]
fn recommend_and_validate_a_knative_service_and_an_hpa_with_a_vpa() {
    let (ok, out, err) = replicast(&[
        "recommend",
        "--spec",
        &repo("examples/specs/knative-service.yaml"),
        "--input",
        &repo("examples/inputs/kpa-observation.json"),
        "--json",
    ]);
    assert!(ok, "{err}");
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["replicas"], 11);
    assert_eq!(d["proposals"][0]["source"], "kpa");
    assert_eq!(d["kpa"]["scale"]["panicking"], true);
    let (ok, out, err) = replicast(&[
        "recommend",
        "--spec",
        &repo("examples/specs/hpa-vpa.yaml"),
        "--input",
        &repo("examples/inputs/hpa-vpa-observation.json"),
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("hold at 4\n"), "{out}");
    assert!(
        out.contains("resize sutazai-backend: requests cpu 1000m, memory 2147483648 B"),
        "{out}"
    );
    let (ok, out, err) = replicast(&["validate", "--spec", &repo("testdata/seed/vpa.yaml")]);
    assert!(ok, "{err}");
    assert!(out.contains("vpa (update mode auto"), "{out}");
}

#[test]
fn forecast_eval_on_an_hour_of_one_second_data_evaluates_what_fits() {
    let dir = std::env::temp_dir().join(format!("replicast-short-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("hour.csv");
    let mut text = String::from("timestamp,value\n");
    for i in 0..3600 {
        let v = 100.0 + 30.0 * (f64::from(i) / 300.0).sin();
        writeln!(text, "{},{v:.3}", 1_700_000_000 + i).unwrap();
    }
    std::fs::write(&trace, text).unwrap();
    let (ok, out, err) = replicast(&["forecast-eval", "--trace", trace.to_str().unwrap()]);
    assert!(ok, "{err}");
    let line = |h: &str| {
        out.lines()
            .find(|l| l.starts_with(h))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line("300s")
            .split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<f64>()
            .is_ok(),
        "{out}"
    );
    assert!(
        line("900s").contains("not evaluated: 15 steps of 60 s after the first origin (point 45) need 61 points, the series has 60"),
        "{out}"
    );
    let (ok, out, err) = replicast(&["backtest", "--trace", trace.to_str().unwrap(), "--no-plot"]);
    assert!(ok, "{err}");
    assert!(out.contains("3600 steps of 1 s"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn recommend_json_and_state_file() {
    let dir = std::env::temp_dir().join(format!("replicast-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("state.json");
    let _ = std::fs::remove_file(&state);
    let args = [
        "recommend",
        "--spec",
        &repo("testdata/seed/thresholds.yaml"),
        "--input",
        &repo("examples/inputs/seed-threshold-observation.json"),
        "--state",
        state.to_str().unwrap(),
        "--json",
    ];
    let (ok, out, err) = replicast(&args);
    assert!(ok, "{err}");
    let decision: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decision["replicas"], 4);
    assert_eq!(decision["proposals"][0]["source"], "threshold");
    assert!(state.exists());
    // deciding again at the same instant is allowed: time did not go back
    let (ok, _, err) = replicast(&args);
    assert!(ok, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn validate_lists_the_seed_presets() {
    let (ok, out, err) = replicast(&[
        "validate",
        "--spec",
        &repo("testdata/seed/threshold-presets.yaml"),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("preset aggressive: replicas 2..=20, sources: threshold (1 rules), cooldown up 30s / down 120s"), "{out}");
    assert!(out.contains("preset conservative"), "{out}");
}

#[test]
fn errors_exit_non_zero_with_the_message() {
    let dir = std::env::temp_dir().join(format!("replicast-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "min_replicas: 5\nmax_replicas: 2\nhpa: {}\n").unwrap();
    let (ok, _, err) = replicast(&["validate", "--spec", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("min_replicas must be <= max_replicas (2), got 5"),
        "{err}"
    );
    let (ok, _, err) = replicast(&[
        "recommend",
        "--spec",
        &repo("testdata/seed/hpa.yaml"),
        "--input",
        "/nonexistent/obs.json",
    ]);
    assert!(!ok);
    assert!(err.contains("cannot read /nonexistent/obs.json"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn backtest_replays_the_bundled_trace_and_draws_the_chart() {
    let dir = std::env::temp_dir().join(format!("replicast-cli-bt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let chart = dir.join("chart.png");
    let (ok, out, err) = replicast(&["backtest", "--plot", chart.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("10080 steps of 60 s"), "{out}");
    for policy in ["hpa", "threshold", "predictive", "oracle"] {
        assert!(
            out.lines().any(|l| l.starts_with(policy)),
            "{policy} row missing:\n{out}"
        );
    }
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (ok, out, err) = replicast(&["backtest", "--json"]);
    assert!(ok, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let runs = report["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["policy"].as_str().unwrap()).collect();
    assert_eq!(names, ["hpa", "threshold", "predictive", "oracle"]);
    assert_eq!(runs[3]["scores"]["minutes_overloaded"], 0.0);
    // the forecast keeps the flash crowd from overloading the fleet as often as HPA does
    let overloaded = |i: usize| runs[i]["scores"]["minutes_overloaded"].as_f64().unwrap();
    assert!(
        overloaded(2) < overloaded(0),
        "predictive {} vs hpa {}",
        overloaded(2),
        overloaded(0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn backtest_rejects_a_malformed_trace() {
    let dir = std::env::temp_dir().join(format!("replicast-cli-bt-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trace = dir.join("t.csv");
    std::fs::write(&trace, "timestamp,value\n0,1\n60,2\n60,3\n").unwrap();
    let (ok, _, err) = replicast(&["backtest", "--trace", trace.to_str().unwrap(), "--no-plot"]);
    assert!(!ok);
    assert!(err.contains("duplicate timestamp"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tune_prints_a_spec_that_meets_the_slo() {
    let (ok, out, err) = replicast(&["tune", "--slo", "99.5"]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with("# replicast tune on nasa_http_1995jul10-16_1min (bundled)"),
        "{out}"
    );
    let minutes = |prefix: &str| -> f64 {
        out.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .and_then(|l| l.split(": ").nth(1))
            .and_then(|l| l.split(", ").nth(1))
            .and_then(|m| m.split_whitespace().next())
            .and_then(|m| m.parse().ok())
            .unwrap_or_else(|| panic!("overloaded minutes after {prefix:?}:\n{out}"))
    };
    // chosen on the first three quarters of the week (126 h), scored on the rest (42 h)
    assert!(out.contains("# chosen on the first 126.0 h: "), "{out}");
    let searched = minutes("# chosen on the first");
    assert!(
        searched <= 0.005 * 126.0 * 60.0,
        "{searched} minutes overloaded"
    );
    let tail = out
        .lines()
        .find(|l| l.starts_with("# on the last 42.0 h, held back from the search: "))
        .unwrap_or_else(|| panic!("no held-out line:\n{out}"));
    let allowed: f64 = tail
        .split("the SLO allows ")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .and_then(|m| m.parse().ok())
        .expect("allowed minutes");
    assert!((allowed - 0.005 * 42.0 * 60.0).abs() < 0.05, "{tail}");
    let held = minutes("# on the last");
    assert_eq!(tail.contains(": met)"), held <= allowed + 1e-9, "{tail}");
    let yaml: String = out
        .lines()
        .filter(|l| !l.starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let spec = replicast::ScalerSpec::from_yaml(&yaml).expect("the printed spec loads");
    assert!(spec.behavior.is_some() || spec.predictive.is_some());
    let (ok, _, err) = replicast(&["tune", "--slo", "150"]);
    assert!(!ok);
    assert!(
        err.contains("slo must be a percentage in (0, 100], got 150"),
        "{err}"
    );
}

#[test]
fn forecast_eval_scores_a_trace_and_writes_each_origin() {
    let dir = std::env::temp_dir().join(format!("replicast-cli-fe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let origins = dir.join("origins.csv");
    let trace = repo("testdata/traces/nab_ec2_cpu_ac20cd_5min.csv");
    let (ok, out, err) = replicast(&[
        "forecast-eval",
        "--trace",
        &trace,
        "--json",
        "--origins",
        origins.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let evaluation = &doc["evaluation"];
    assert!(
        evaluation.get("origin_errors").is_none(),
        "in the file, not the report"
    );
    let n_origins = evaluation["origins"].as_u64().unwrap() as usize;
    let csv = std::fs::read_to_string(&origins).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("origin,horizon_s,mae,mae_seasonal_naive")
    );
    let rows: Vec<Vec<f64>> = lines
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 2 * n_origins);
    // the per-origin errors add up to the report's relMAE at each horizon
    for (i, horizon) in evaluation["horizons"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let secs = horizon["horizon_s"].as_f64().unwrap();
        let at: Vec<&Vec<f64>> = rows.iter().filter(|r| r[1] == secs).collect();
        assert_eq!(at.len(), n_origins, "horizon {i}");
        let rel = at.iter().map(|r| r[2]).sum::<f64>() / at.iter().map(|r| r[3]).sum::<f64>();
        let want = horizon["rel_mae"].as_f64().unwrap();
        assert!((rel - want).abs() < 1e-9 * want, "{rel} vs {want}");
        assert!(want < 1.0, "beats seasonal naive on this excerpt: {want}");
    }
    let (ok, out, _) = replicast(&["forecast-eval", "--trace", &trace]);
    assert!(ok);
    assert!(out.contains("relMAE") && out.contains("300s"), "{out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn forecast_eval_sets_the_automatic_model_s_constants() {
    let trace = repo("testdata/traces/nab_ec2_cpu_ac20cd_5min.csv");
    let run = |settings: &[&str]| -> (bool, serde_json::Value, String) {
        let mut args = vec!["forecast-eval", "--trace", &trace, "--json"];
        for s in settings {
            args.extend(["--auto", s]);
        }
        let (ok, out, err) = replicast(&args);
        (ok, serde_json::from_str(&out).unwrap_or_default(), err)
    };
    let (ok, default, err) = run(&[]);
    assert!(ok, "{err}");
    assert!(default.get("auto").is_none(), "only when given");
    // the defaults spelt out give the same evaluation, and the document records them
    let (ok, spelt, err) = run(&[
        "outlier_k=0",
        "min_acf=0.2",
        "long_history_margin=0.1",
        "combination_weight=0.25",
        "correction_lags=1",
        "correction_mean_weights=0.05,0.1,0.2,0.4",
    ]);
    assert!(ok, "{err}");
    assert_eq!(spelt["evaluation"], default["evaluation"]);
    assert_eq!(spelt["auto"]["combination_weight"], 0.25);
    assert_eq!(
        spelt["auto"]["correction_mean_weights"],
        serde_json::json!([0.05, 0.1, 0.2, 0.4])
    );
    // a setting reaches the model
    let (ok, other, err) = run(&["correction_mean_weights=none", "outlier_k=4"]);
    assert!(ok, "{err}");
    assert_eq!(
        other["auto"]["correction_mean_weights"],
        serde_json::json!([])
    );
    assert_eq!(other["auto"]["outlier_k"], 4.0);
    assert_ne!(
        other["evaluation"]["horizons"],
        default["evaluation"]["horizons"]
    );
    for (setting, message) in [
        ("lookahead=3", "unknown key \"lookahead\""),
        ("min_acf", "expected KEY=VALUE"),
        ("min_acf=high", "min_acf must be a number"),
        ("min_acf=1.5", "min_acf must be in (0, 1)"),
        (
            "combination_weight=1",
            "combination_weight must be in (0, 1)",
        ),
        (
            "long_history_margin=-1",
            "long_history_margin must be finite and >= 0",
        ),
        ("correction_lags=3", "correction_lags must be 1 or 2"),
        ("correction_lags=one", "correction_lags must be 1 or 2"),
        (
            "correction_mean_weights=0.2,x",
            "correction_mean_weights must be numbers",
        ),
        (
            "correction_mean_weights=0.2,2",
            "correction_mean_weights must each be in (0, 1]",
        ),
        (
            "outlier_k=1",
            "outlier_k must be 0 (off) or finite and >= 2",
        ),
    ] {
        let (ok, _, err) = replicast(&["forecast-eval", "--trace", &trace, "--auto", setting]);
        assert!(!ok, "{setting}");
        assert!(err.contains(message), "{setting}: {err}");
    }
    let (ok, _, err) = replicast(&[
        "forecast-eval",
        "--trace",
        &trace,
        "--auto",
        "outlier_k=4",
        "--auto",
        "outlier_k=6",
    ]);
    assert!(!ok && err.contains("outlier_k given twice"), "{err}");
}

#[test]
fn backtest_takes_the_predictive_policy_s_knobs() {
    let scores = |knobs: &str| -> serde_json::Value {
        let (ok, out, err) = replicast(&["backtest", "--json", "--predictive", knobs]);
        assert!(ok, "{knobs}: {err}");
        let report: serde_json::Value = serde_json::from_str(&out).unwrap();
        report["runs"][2]["scores"].clone()
    };
    let default = scores("");
    // the default's knobs spelt out give the same run
    assert_eq!(scores("backstop=83,slo=0.05,cost=1.1"), default);
    assert_eq!(scores("phases=1"), default);
    // one headroom all hour is another run on the bundled trace (its bursts recur by the hour)
    assert_ne!(scores("phases=0"), default);
    // a looser cost bound buys at least as many replica-hours, a tighter one no more
    let hours = |s: &serde_json::Value| s["replica_hours"].as_f64().unwrap();
    assert!(hours(&scores("cost=1.5")) >= hours(&default));
    assert!(hours(&scores("cost=0.6")) <= hours(&default));
    // the fixed-quantile policy runs too
    assert!(hours(&scores("target=83,quantile=0.99,peak=0.885")) > 0.0);
    for (bad, message) in [
        ("slo", "expected KEY=VALUE"),
        ("slo=x", "slo must be a number"),
        ("bogus=1", "unknown knob \"bogus\""),
        ("slo=0.1,quantile=0.9", "not both"),
        ("slo=80", "max_overloaded_pct must be in (0, 50], got 80"),
        (
            "phases=2",
            "phases must be 1 (headroom by the minute of the hour) or 0, got \"2\"",
        ),
    ] {
        let (ok, _, err) = replicast(&["backtest", "--json", "--predictive", bad]);
        assert!(!ok, "{bad}");
        assert!(err.contains(message), "{bad}: {err}");
    }
}

#[test]
fn validate_describes_a_predictive_spec_with_an_slo() {
    let (ok, out, err) = replicast(&[
        "validate",
        "--spec",
        &repo("examples/specs/predictive-slo.yaml"),
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "valid: replicas 2..=40, sources: hpa (1 metrics), predictive (slo: overloaded at most 0.1 % of the time, cost at most 1 × a reactive 70 % target's)\n"
    );
}

#[test]
fn a_reader_that_stops_reading_ends_the_command_quietly() {
    // `replicast backtest | head -1`: the read end closes before the command writes its table
    let mut child = Command::new(env!("CARGO_BIN_EXE_replicast"))
        .args([
            "backtest",
            "--trace",
            &repo("testdata/traces/nab_ec2_cpu_ac20cd_5min.csv"),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("replicast starts");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("replicast ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert_eq!(out.status.code(), Some(0), "stderr: {stderr}");
}
