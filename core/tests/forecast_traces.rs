//! Rolling-origin evaluation on the nine shared traces (ignored by default: the traces live
//! outside the repository). Run:
//!
//! ```text
//! cargo test --release -p replicast --test forecast_traces -- --ignored --nocapture
//! ```
//!
//! `REPLICAST_TRACES_DIR` overrides the directory (default `../../shared/traces` from `core/`).

use std::time::Instant;

use replicast::forecast::{EvalConfig, ModelSpec, SeasonalNaive, evaluate};

fn load(path: &std::path::Path) -> (Vec<i64>, Vec<f64>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut ts = Vec::new();
    let mut ys = Vec::new();
    for line in text.lines().skip(1) {
        let (t, v) = line.split_once(',').unwrap();
        ts.push(t.trim().parse::<i64>().unwrap() * 1000);
        ys.push(v.trim().parse::<f64>().unwrap());
    }
    (ts, ys)
}

#[test]
#[ignore = "reads ../shared/traces; prints the accuracy table"]
fn all_traces_table() {
    let dir = std::env::var("REPLICAST_TRACES_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces").into());
    let only = std::env::var("REPLICAST_TRACE").ok();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    names.sort();
    println!(
        "| trace | step s | m | origins | relMAE 5 | relMAE 15 | MASE 5 | MASE 15 | sMAPE 5 | sMAPE 15 | cov90 5 | cov90 15 | refits | no-fc | s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for path in names {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if only.as_ref().is_some_and(|o| !name.contains(o.as_str())) {
            continue;
        }
        let (ts, ys) = load(&path);
        let cfg = EvalConfig {
            refit_every: std::env::var("REPLICAST_REFIT_EVERY")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            ..EvalConfig::default()
        };
        let t0 = Instant::now();
        let r = evaluate(&ts, &ys, &cfg).unwrap();
        let dt = t0.elapsed().as_secs_f64();
        let h = &r.horizons;
        println!(
            "| {name} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2} | {:.2} | {:.3} | {:.3} | {} | {} | {:.1} |",
            r.step_s,
            r.season,
            r.origins,
            h[0].rel_mae,
            h[1].rel_mae,
            h[0].mase,
            h[1].mase,
            h[0].smape,
            h[1].smape,
            h[0].coverage,
            h[1].coverage,
            r.refits,
            r.no_forecast,
            dt
        );
        if std::env::var("REPLICAST_SN_CHECK").is_ok() {
            let sn = EvalConfig {
                model: ModelSpec::SeasonalNaive(SeasonalNaive::new(r.season)),
                ..EvalConfig::default()
            };
            let s = evaluate(&ts, &ys, &sn).unwrap();
            println!(
                "  seasonal naive self-check relMAE {:.4}",
                s.horizons[0].rel_mae
            );
        }
    }
}

#[test]
#[ignore = "debug: candidate losses at the first origin"]
fn first_fit_losses() {
    use replicast::forecast::{Auto, Fit, Predict};
    let dir = std::env::var("REPLICAST_TRACES_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces").into());
    for name in [
        "twitter_stream_2021aug_1min",
        "azure_functions2019_day_1min",
        "nasa_http_1995jul_1min",
    ] {
        let (_, ys) = load(&std::path::Path::new(&dir).join(format!("{name}.csv")));
        let o = ys.len() * 3 / 4;
        let w = if ys.len() > 5760 { 5760 } else { 500 };
        let y = &ys[o.saturating_sub(w)..o];
        let t0 = Instant::now();
        let m = Auto {
            horizon: 15,
            ..Auto::default()
        }
        .fit(y)
        .unwrap();
        println!(
            "{name}: {:?} period {} losses {:?} evals {} {:?} {:.2} ms",
            m.candidate(),
            m.period(),
            m.losses(),
            m.evals(),
            m.predict(3, None).map(|f| f.point),
            t0.elapsed().as_secs_f64() * 1e3
        );
    }
}

#[test]
#[ignore = "timing of a full refit and of one incremental update (release build)"]
fn refit_and_update_cost() {
    use replicast::forecast::{Auto, Ets, Fit, Predict, Update};
    let dir = std::env::var("REPLICAST_TRACES_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/traces").into());
    for name in ["nasa_http_1995jul_1min", "twitter_stream_2021aug_1min"] {
        let (_, ys) = load(&std::path::Path::new(&dir).join(format!("{name}.csv")));
        for days in [4usize, 7] {
            let y = &ys[..days * 1440];
            let reps = 20;
            let t0 = Instant::now();
            let mut m = None;
            for _ in 0..reps {
                m = Some(Auto::default().fit(y).unwrap());
            }
            let fit_ms = t0.elapsed().as_secs_f64() * 1e3 / f64::from(reps);
            let mut m = m.unwrap();
            let t0 = Instant::now();
            let ets = Ets::default().period(1440).fit(y).unwrap();
            let ets_ms = t0.elapsed().as_secs_f64() * 1e3;
            let mut e = ets.clone();
            let k = 200_000;
            let t0 = Instant::now();
            for i in 0..k {
                e.update(ys[i % ys.len()]).unwrap();
            }
            let ets_up = t0.elapsed().as_secs_f64() * 1e9 / k as f64;
            let t0 = Instant::now();
            for i in 0..k {
                m.update(ys[i % ys.len()]).unwrap();
            }
            let auto_up = t0.elapsed().as_secs_f64() * 1e9 / k as f64;
            let t0 = Instant::now();
            let mut sink = 0.0;
            for _ in 0..k {
                sink += e.predict(15, 0.9).unwrap().point[14];
            }
            let pred = t0.elapsed().as_secs_f64() * 1e9 / k as f64;
            println!(
                "{name} {days}d: Auto fit {fit_ms:.2} ms ({:?}, evals {}), Ets(period 1440) fit {ets_ms:.2} ms ({:?}); update ns: ets {ets_up:.0}, auto {auto_up:.0}; predict(15, 0.9) {pred:.0} ns {}",
                m.candidate(),
                m.evals(),
                ets.components(),
                sink.is_finite()
            );
        }
    }
}
