//! The README's sample outputs are what the commands print: each block after a
//! `<!-- sample: ARGS -->` marker is the output of `replicast ARGS`, from its first line that
//! starts like the block's to the end. `scripts/readme-samples.py` rewrites them.

use std::process::Command;

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (args, the block's lines) for every marked sample.
fn samples(readme: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(args) = line
            .strip_prefix("<!-- sample: ")
            .and_then(|l| l.strip_suffix(" -->"))
        else {
            continue;
        };
        let start = i + 2; // the marker, then the opening fence
        assert!(lines[i + 1].starts_with("```"), "no block after {line}");
        let end = start
            + lines[start..]
                .iter()
                .position(|l| l.starts_with("```"))
                .expect("closed block");
        out.push((
            args.split_whitespace().map(str::to_owned).collect(),
            lines[start..end].iter().map(|l| (*l).to_owned()).collect(),
        ));
    }
    out
}

#[test]
fn the_readme_s_sample_outputs_are_what_the_commands_print() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let samples = samples(&readme);
    assert!(samples.len() >= 2, "the README's samples are marked");
    for (args, block) in samples {
        let out = Command::new(env!("CARGO_BIN_EXE_replicast"))
            .args(&args)
            .current_dir(repo())
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let printed = String::from_utf8_lossy(&out.stdout);
        let first = block
            .first()
            .map_or("", |l| l.split_whitespace().next().unwrap_or(""));
        let shown: Vec<&str> = printed
            .lines()
            .skip_while(|l| !l.starts_with(first))
            .collect();
        assert_eq!(
            shown,
            block,
            "README sample of `replicast {}` is stale: run scripts/readme-samples.py",
            args.join(" ")
        );
    }
}

/// The number after `label` in `text`, e.g. "ratio **0.39**" → 0.39.
fn figure_after(text: &str, label: &str) -> f64 {
    let rest = text
        .split(label)
        .nth(1)
        .unwrap_or_else(|| panic!("no {label:?}"));
    rest.trim_start_matches([' ', '*'])
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?}"))
}

#[test]
fn the_readme_quotes_the_backtest_s_out_of_sample_figures() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let backtest = std::fs::read_to_string(repo().join("docs/backtest.md")).unwrap();
    let out_of_sample = backtest
        .lines()
        .find(|l| l.starts_with("Out of sample"))
        .expect(
            "docs/backtest.md has the leave-one-trace-out summary (scripts/backtest-traces.sh)",
        );
    let ratio = figure_after(out_of_sample, "median overloaded-time ratio");
    let cost = figure_after(out_of_sample, "median replica-hours ratio");
    let quoted = format!(
        "overloaded {ratio:.2} times\n  as long as the HPA (median) for {cost:.2} times its replica-hours"
    );
    assert!(
        readme
            .replace("\n  ", " ")
            .contains(&quoted.replace("\n  ", " ")),
        "the README should quote docs/backtest.md's out-of-sample figures: {quoted:?}"
    );
}
