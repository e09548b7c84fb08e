//! From the load a caller observed to the regular series the forecaster needs.
//!
//! A caller observes load over *windows*: the mean rate since some instant (`load` with
//! `load_since_ms`; without it, over one `sample_interval_s`), or finer samples
//! (`load_samples`: the samples since the previous decision, as a range query returns them). The
//! source averages them, weighted by time, into samples of `sample_interval_s`: the forecast's
//! resolution, which may be coarser than the caller's samples and than its decisions (a 1 s series
//! decided every 15 s and forecast per minute).
//!
//! - A window that overlaps time already seen counts only for its new part: the newest data
//!   covers what the older did not, and nothing counts twice (a `rate(...[1m])` read every 15 s
//!   gives four 15 s pieces per minute).
//! - A sample is complete when the windows reach its end. One that was only partly covered is the
//!   mean of what was seen; one never covered (the caller missed decisions) repeats the previous
//!   sample, at most one history length of them — the gap policy of the forecasting module.
//! - The first window starts the first sample; samples follow back to back from there.

use super::phase::PhaseScale;
use super::{PredictiveSpec, PredictiveState};
use crate::decision::DecisionInput;
use crate::time::Timestamp;

/// The mean load over `[start_ms, end_ms)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub start_ms: Timestamp,
    pub end_ms: Timestamp,
    pub mean: f64,
}

impl Window {
    pub(crate) fn duration_ms(&self) -> i64 {
        self.end_ms - self.start_ms
    }
}

/// The windows a decision's input carries, oldest first (`load`, or each of `load_samples`).
pub(crate) fn windows(input: &DecisionInput, interval_ms: i64) -> impl Iterator<Item = Window> {
    let now = input.now_ms;
    let single = input.load.map(|mean| Window {
        start_ms: input
            .load_since_ms
            .unwrap_or_else(|| now.saturating_sub(interval_ms)),
        end_ms: now,
        mean,
    });
    let samples = input.load_samples.iter().flat_map(move |s| {
        let n = s.values.len() as i64;
        s.values.iter().enumerate().map(move |(i, &mean)| {
            let back = n - i as i64;
            Window {
                start_ms: now.saturating_sub(back.saturating_mul(s.step_ms)),
                end_ms: now.saturating_sub((back - 1).saturating_mul(s.step_ms)),
                mean,
            }
        })
    });
    single.into_iter().chain(samples)
}

impl PredictiveState {
    /// The part of `window` not seen before, and never longer than the history kept (so that a
    /// window reaching back to the epoch costs no more than a full history).
    pub(crate) fn unseen(&self, spec: &PredictiveSpec, window: Window) -> Option<Window> {
        let seen_until = self.covered_until_ms.or(self.last_sample_ms);
        let oldest_kept = window.end_ms.saturating_sub(
            spec.interval_ms()
                .saturating_mul(spec.capacity_samples() as i64),
        );
        let start = window
            .start_ms
            .max(seen_until.unwrap_or(i64::MIN))
            .max(oldest_kept);
        (start < window.end_ms).then_some(Window {
            start_ms: start,
            ..window
        })
    }

    /// Adds a window's unseen part (what [`PredictiveState::unseen`] returned) to the pending
    /// sample, completing every sample it reaches the end of.
    pub(crate) fn absorb(&mut self, spec: &PredictiveSpec, window: Window) {
        let interval = spec.interval_ms();
        let pending_start = *self.last_sample_ms.get_or_insert(window.start_ms);
        if window.start_ms >= pending_start + interval {
            // the caller missed time: close the pending sample and repeat it over whole gaps
            self.complete_sample(spec);
            let missing = (window.start_ms - self.sample_start()) / interval;
            let fill = self.history.last().copied();
            for _ in 0..missing.min(spec.capacity_samples() as i64) {
                if let Some(value) = fill {
                    // a repeat, not an observation: nothing to learn of its phase
                    self.push_sample(spec, value, None);
                }
            }
            self.last_sample_ms = Some(self.sample_start() + missing * interval);
        }
        let mut cursor = window.start_ms;
        while cursor < window.end_ms {
            let sample_end = self.sample_start() + interval;
            let piece_end = window.end_ms.min(sample_end);
            self.pending_load += window.mean * (piece_end - cursor) as f64;
            self.pending_ms += piece_end - cursor;
            cursor = piece_end;
            if cursor == sample_end {
                self.complete_sample(spec);
            }
        }
        self.covered_until_ms = Some(window.end_ms);
    }

    /// Where the pending sample starts (the end of the last complete one).
    fn sample_start(&self) -> Timestamp {
        self.last_sample_ms.unwrap_or(0)
    }

    /// Closes the pending sample: the time-weighted mean of what it saw, or (never covered) the
    /// previous sample repeated.
    fn complete_sample(&mut self, spec: &PredictiveSpec) {
        let value = if self.pending_ms > 0 {
            Some(self.pending_load / self.pending_ms as f64)
        } else {
            self.history.last().copied()
        };
        if let Some(value) = value {
            let observed = (self.pending_ms > 0).then(|| self.sample_start());
            self.push_sample(spec, value, observed);
        }
        self.pending_load = 0.0;
        self.pending_ms = 0;
        self.last_sample_ms = Some(self.sample_start() + spec.interval_ms());
    }

    /// Appends a sample; `observed_from` is its start when it was observed (not a repeat).
    fn push_sample(&mut self, spec: &PredictiveSpec, value: f64, observed_from: Option<Timestamp>) {
        self.history.push(value);
        if let Some(model) = &mut self.model {
            // finite by construction (checked loads), so the update cannot fail
            let issued = model.update_issued(value).ok().flatten();
            if let (true, Some(start_ms), Some((point, upper))) =
                (spec.phase_of_hour, observed_from, issued)
            {
                if self.phase_scale.is_none() {
                    self.phase_scale = PhaseScale::for_samples(spec.sample_interval_s);
                }
                if let Some(phase) = &mut self.phase_scale {
                    phase.record(start_ms, value, point, upper);
                }
            }
        }
        self.samples_since_fit = self.samples_since_fit.saturating_add(1);
        let cap = spec.capacity_samples();
        // trimmed in batches (up to a quarter over), so that a full history is not shifted on
        // every sample
        if self.history.len() > cap + cap / 4 {
            let excess = self.history.len() - cap;
            self.history.drain(..excess);
        }
    }
}
