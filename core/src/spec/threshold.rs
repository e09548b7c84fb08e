//! The seed's threshold-band autoscaler settings, in replicast's own format and in the seed's
//! flat YAML (`cpu_threshold_up: 70%`, `scale_up_cooldown: 30s`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Cooldown, ScalerSpec};
use crate::error::{Error, Result};

/// Hysteresis bands over named signals: scale up by `scale_up_step` when any signal is above its
/// up-threshold; scale down by `scale_down_step` only when every signal is below its
/// down-threshold (and none is missing, and the caller does not report the service unhealthy).
///
/// | field | default | unit / range | meaning |
/// | --- | --- | --- | --- |
/// | `rules` | the seed's four ([`ThresholdSpec::seed_rules`]) | ≥ 1 rule, unique signals | one band per signal |
/// | `scale_up_step` | 1 replica | > 0 | change on a scale-up |
/// | `scale_down_step` | 1 replica | > 0 | change on a scale-down |
///
/// ```
/// use replicast::spec::{StepKind, ThresholdSpec};
/// let t: ThresholdSpec = serde_json::from_str(r#"{
///     "rules": [{"signal": "cpu", "scale_up_above": 70, "scale_down_below": 30}],
///     "scale_up_step": {"type": "percent", "value": 50}
/// }"#).unwrap();
/// assert_eq!(t.scale_up_step.kind, StepKind::Percent);
/// assert_eq!(t.scale_down_step.value, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// One rule per signal.
    #[serde(default = "ThresholdSpec::seed_rules")]
    pub rules: Vec<ThresholdRule>,
    /// How much a scale-up adds.
    #[serde(default)]
    pub scale_up_step: ScaleStep,
    /// How much a scale-down removes.
    #[serde(default)]
    pub scale_down_step: ScaleStep,
}

/// The band of one signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdRule {
    /// Signal name, as in [`crate::DecisionInput::signals`] (`cpu` and `memory` in percent,
    /// `response_time_p95` in seconds, `inference_queue_depth` in requests).
    pub signal: String,
    /// Scale up when the signal is strictly above this.
    pub scale_up_above: f64,
    /// Scale down only when the signal is strictly below this (and every other signal below
    /// its own); `None`: this signal never asks for a scale-down but must be present and not
    /// above `scale_up_above` for one to happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_below: Option<f64>,
}

/// The size of one scaling step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleStep {
    /// Replicas or percent of the current replicas.
    #[serde(rename = "type")]
    pub kind: StepKind,
    /// How many replicas, or what percentage (rounded up, at least one replica).
    pub value: u32,
}

impl Default for ScaleStep {
    fn default() -> Self {
        Self {
            kind: StepKind::Replicas,
            value: 1,
        }
    }
}

impl ScaleStep {
    /// The number of replicas this step adds or removes from `current`.
    ///
    /// ```
    /// use replicast::spec::{ScaleStep, StepKind};
    /// let half = ScaleStep { kind: StepKind::Percent, value: 50 };
    /// assert_eq!(half.replicas_from(5), 3); // ceil(2.5)
    /// assert_eq!(half.replicas_from(0), 1); // always at least one
    /// ```
    #[must_use]
    pub fn replicas_from(self, current: u32) -> u32 {
        match self.kind {
            StepKind::Replicas => self.value,
            StepKind::Percent => {
                let step = (u64::from(current) * u64::from(self.value)).div_ceil(100);
                u32::try_from(step).unwrap_or(u32::MAX).max(1)
            }
        }
    }
}

/// The unit of a [`ScaleStep`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// An absolute number of replicas.
    Replicas,
    /// A percentage of the current replicas.
    Percent,
}

impl Default for ThresholdSpec {
    fn default() -> Self {
        Self {
            rules: Self::seed_rules(),
            scale_up_step: ScaleStep::default(),
            scale_down_step: ScaleStep::default(),
        }
    }
}

/// Largest accepted step: a percentage this large already multiplies by 101.
const MAX_STEP: u32 = 10_000;

impl ThresholdSpec {
    /// The seed's defaults: CPU up above 70 % / down below 30 %, memory 80 % / 50 %, inference
    /// queue depth up above 10 requests, p95 response time up above 5 s.
    #[must_use]
    pub fn seed_rules() -> Vec<ThresholdRule> {
        let rule = |signal: &str, up: f64, down: Option<f64>| ThresholdRule {
            signal: signal.to_owned(),
            scale_up_above: up,
            scale_down_below: down,
        };
        vec![
            rule("cpu", 70.0, Some(30.0)),
            rule("memory", 80.0, Some(50.0)),
            rule("inference_queue_depth", 10.0, None),
            rule("response_time_p95", 5.0, None),
        ]
    }

    /// Checks every rule and step.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidConfig`] naming the rule, the value and the valid range.
    pub fn validate(&self) -> Result<()> {
        if self.rules.is_empty() {
            return Err(Error::invalid_config(
                "threshold.rules must have at least one rule",
            ));
        }
        for (i, rule) in self.rules.iter().enumerate() {
            let at = format!("threshold.rules[{i}]");
            if rule.signal.trim().is_empty() {
                return Err(Error::invalid_config(format!(
                    "{at}.signal must not be empty"
                )));
            }
            if self.rules[..i].iter().any(|r| r.signal == rule.signal) {
                return Err(Error::invalid_config(format!(
                    "{at}.signal must be unique, got {:?} twice",
                    rule.signal
                )));
            }
            if !(rule.scale_up_above.is_finite() && rule.scale_up_above >= 0.0) {
                return Err(Error::invalid_config(format!(
                    "{at}.scale_up_above must be a finite number >= 0, got {}",
                    rule.scale_up_above
                )));
            }
            if let Some(down) = rule.scale_down_below
                && !(down.is_finite() && down >= 0.0 && down < rule.scale_up_above)
            {
                return Err(Error::invalid_config(format!(
                    "{at}.scale_down_below must be in [0, scale_up_above = {}), got {down}",
                    rule.scale_up_above
                )));
            }
        }
        for (field, step) in [
            ("threshold.scale_up_step", self.scale_up_step),
            ("threshold.scale_down_step", self.scale_down_step),
        ] {
            if step.value == 0 || step.value > MAX_STEP {
                return Err(Error::invalid_config(format!(
                    "{field}.value must be in [1, {MAX_STEP}], got {}",
                    step.value
                )));
            }
        }
        Ok(())
    }
}

// ---- the seed's flat format ----

/// Replica bounds for a spec read from the seed's threshold YAML when it sets none: the seed's
/// HPA for the same backend runs 2..=20.
const SEED_MIN_REPLICAS: u32 = 2;
const SEED_MAX_REPLICAS: u32 = 20;

/// Keys that only the seed's flat format has.
fn is_seed_key(key: &str) -> bool {
    key.ends_with("_threshold_up")
        || key.ends_with("_threshold_down")
        || matches!(
            key,
            "inference_queue_depth"
                | "response_time_p95"
                | "scale_up_cooldown"
                | "scale_down_cooldown"
        )
}

/// One `key: value` line of the flat format, with the comment lines just before it.
struct Entry {
    key: String,
    value: String,
    line: usize,
}

/// Splits flat `key: value  # comment` lines; `None` when the text is not flat.
fn flat_lines(text: &str) -> Option<Vec<(Vec<String>, Entry)>> {
    let mut entries = Vec::new();
    let mut comments = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            comments.push(comment.trim().to_owned());
            continue;
        }
        if line.starts_with([' ', '\t', '-']) {
            return None;
        }
        let (key, rest) = line.split_once(':')?;
        let value = rest.split_once('#').map_or(rest, |(v, _)| v).trim();
        let value = value.trim_matches(|c| c == '"' || c == '\'');
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return None;
        }
        entries.push((
            std::mem::take(&mut comments),
            Entry {
                key: key.to_owned(),
                value: value.to_owned(),
                line: i + 1,
            },
        ));
    }
    Some(entries)
}

pub(super) fn looks_like_seed_format(text: &str) -> bool {
    flat_lines(text).is_some_and(|entries| entries.iter().any(|(_, e)| is_seed_key(&e.key)))
}

pub(super) fn is_seed_value(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|map| map.keys().any(|k| is_seed_key(k)))
}

/// Reads the seed's threshold settings. A file that repeats keys (the seed's presets file)
/// holds several presets; this returns the last one, which is what a YAML 1.1 reader such as
/// the seed's Python autoscaler gets. [`seed_presets`] returns them all.
pub(super) fn from_seed_yaml(text: &str) -> Result<ScalerSpec> {
    let mut presets = seed_presets(text)?;
    presets
        .pop()
        .map(|(_, spec)| spec)
        .ok_or_else(|| Error::invalid_config("seed threshold settings are empty"))
}

pub(super) fn from_seed_value(value: &Value) -> Result<ScalerSpec> {
    let map = value
        .as_object()
        .ok_or_else(|| Error::invalid_config("seed threshold settings must be a mapping"))?;
    let entries: Vec<Entry> = map
        .iter()
        .map(|(k, v)| Entry {
            key: k.clone(),
            value: match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
            line: 0,
        })
        .collect();
    spec_from_entries(&entries)
}

/// Every preset of a seed threshold file, with its name: the first word of the comment just
/// before the preset (`# Aggressive scaling (fast response)` → `aggressive`), or `preset-N`.
///
/// ```
/// let text = "# Aggressive scaling\ncpu_threshold_up: 60%\nscale_up_cooldown: 30s\n\
///             \x23 Conservative scaling\ncpu_threshold_up: 80%\nscale_up_cooldown: 60s\n";
/// let presets = replicast::spec::seed_presets(text).unwrap();
/// assert_eq!(presets.len(), 2);
/// assert_eq!(presets[0].0, "aggressive");
/// assert_eq!(presets[1].1.cooldown.unwrap().scale_up_s, 60);
/// ```
///
/// # Errors
/// [`crate::ErrorKind::InvalidConfig`] naming the line, key and value that cannot be read.
pub fn seed_presets(text: &str) -> Result<Vec<(String, ScalerSpec)>> {
    let lines = flat_lines(text).ok_or_else(|| {
        Error::invalid_config("seed threshold settings must be flat `key: value` lines")
    })?;
    let mut groups: Vec<(Option<String>, Vec<Entry>)> = Vec::new();
    for (comments, entry) in lines {
        let repeats = groups
            .last()
            .is_some_and(|(_, entries)| entries.iter().any(|e| e.key == entry.key));
        if groups.is_empty() || repeats {
            let name = comments
                .iter()
                .rev()
                .find_map(|c| c.split_whitespace().next())
                .map(|w| {
                    w.trim_matches(|ch: char| !ch.is_alphanumeric())
                        .to_lowercase()
                })
                .filter(|w| !w.is_empty());
            groups.push((name, Vec::new()));
        }
        if let Some((_, entries)) = groups.last_mut() {
            entries.push(entry);
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (name, entries))| {
            let spec = spec_from_entries(&entries)?;
            spec.validate()?;
            Ok((name.unwrap_or_else(|| format!("preset-{}", i + 1)), spec))
        })
        .collect()
}

fn entry_error(entry: &Entry, why: &str) -> Error {
    let at = if entry.line > 0 {
        format!("line {}: ", entry.line)
    } else {
        String::new()
    };
    Error::invalid_config(format!(
        "{at}{} must be {why}, got {:?}",
        entry.key, entry.value
    ))
}

/// `70%`, `70` → 70.
fn parse_number(entry: &Entry) -> Result<f64> {
    let text = entry.value.trim().trim_end_matches('%').trim();
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| entry_error(entry, "a number >= 0, optionally with %"))
}

/// `5s`, `500ms`, `2m`, `1h`, `30` (seconds) → seconds.
fn parse_seconds(entry: &Entry) -> Result<f64> {
    let text = entry.value.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return Err(entry_error(entry, "a duration such as 500ms, 5s, 2m or 1h")),
    };
    number
        .parse::<f64>()
        .ok()
        .map(|n| n * scale)
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| entry_error(entry, "a duration such as 500ms, 5s, 2m or 1h"))
}

fn parse_whole_seconds(entry: &Entry) -> Result<u32> {
    let seconds = parse_seconds(entry)?;
    if seconds.fract() != 0.0 || seconds > f64::from(u32::MAX) {
        return Err(entry_error(entry, "a whole number of seconds"));
    }
    Ok(seconds as u32)
}

fn spec_from_entries(entries: &[Entry]) -> Result<ScalerSpec> {
    let mut rules: Vec<ThresholdRule> = Vec::new();
    let mut cooldown: Option<Cooldown> = None;
    let mut min_replicas = SEED_MIN_REPLICAS;
    let mut max_replicas = SEED_MAX_REPLICAS;
    let mut rule = |signal: &str| -> usize {
        if let Some(i) = rules.iter().position(|r| r.signal == signal) {
            i
        } else {
            rules.push(ThresholdRule {
                signal: signal.to_owned(),
                scale_up_above: f64::INFINITY,
                scale_down_below: None,
            });
            rules.len() - 1
        }
    };
    let mut ups: Vec<(usize, f64)> = Vec::new();
    let mut downs: Vec<(usize, f64)> = Vec::new();
    for entry in entries {
        let key = entry.key.as_str();
        if let Some(signal) = key.strip_suffix("_threshold_up") {
            ups.push((rule(signal), parse_number(entry)?));
        } else if let Some(signal) = key.strip_suffix("_threshold_down") {
            downs.push((rule(signal), parse_number(entry)?));
        } else {
            match key {
                "inference_queue_depth" => ups.push((rule(key), parse_number(entry)?)),
                "response_time_p95" => ups.push((rule(key), parse_seconds(entry)?)),
                "scale_up_cooldown" => {
                    cooldown.get_or_insert_with(Cooldown::default).scale_up_s =
                        parse_whole_seconds(entry)?;
                }
                "scale_down_cooldown" => {
                    cooldown.get_or_insert_with(Cooldown::default).scale_down_s =
                        parse_whole_seconds(entry)?;
                }
                "min_replicas" | "max_replicas" => {
                    let n = parse_number(entry)?;
                    if n.fract() != 0.0 || n > f64::from(u32::MAX) {
                        return Err(entry_error(entry, "a whole number of replicas"));
                    }
                    if key == "min_replicas" {
                        min_replicas = n as u32;
                    } else {
                        max_replicas = n as u32;
                    }
                }
                _ => {
                    return Err(Error::invalid_config(format!(
                        "{}unknown seed threshold setting {key:?}: expected <signal>_threshold_up, <signal>_threshold_down, inference_queue_depth, response_time_p95, scale_up_cooldown, scale_down_cooldown, min_replicas or max_replicas",
                        if entry.line > 0 {
                            format!("line {}: ", entry.line)
                        } else {
                            String::new()
                        }
                    )));
                }
            }
        }
    }
    for (i, up) in ups {
        rules[i].scale_up_above = up;
    }
    for (i, down) in downs {
        rules[i].scale_down_below = Some(down);
    }
    if let Some(r) = rules.iter().find(|r| r.scale_up_above.is_infinite()) {
        return Err(Error::invalid_config(format!(
            "{}_threshold_down is set without {}_threshold_up",
            r.signal, r.signal
        )));
    }
    if rules.is_empty() {
        return Err(Error::invalid_config(
            "seed threshold settings name no threshold (e.g. cpu_threshold_up: 70%)",
        ));
    }
    Ok(ScalerSpec {
        min_replicas,
        max_replicas,
        hpa: None,
        predictive: None,
        keda: None,
        kpa: None,
        vpa: None,
        threshold: Some(ThresholdSpec {
            rules,
            ..ThresholdSpec::default()
        }),
        behavior: None,
        cooldown,
        controller: super::ControllerConfig::default(),
    })
}
