//! [`KpaState`]: everything one revision's KPA remembers between ticks.

use serde::{Deserialize, Serialize};

use super::window::{MaxWindow, WindowAverager};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The version written into every [`KpaState`]; bumped when the layout changes.
pub const KPA_STATE_VERSION: u32 = 1;

/// The PodAutoscaler's `Active` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActiveStatus {
    /// `Active=True`: serving with enough ready pods.
    Active,
    /// `Active=Unknown`: waiting for pods (new revisions start here).
    Activating,
    /// `Active=False`: idle, the activator holds requests; a scale-to-zero candidate.
    Inactive,
}

/// The reason on the `Active` condition; a change of reason restarts its clock, as a status
/// change does (Knative's condition manager compares both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActiveReason {
    /// No reason: `Active=True`, or the initial `Active=Unknown`.
    None,
    /// Activating: requests are buffered while pods start.
    Queued,
    /// Inactive: no traffic.
    NoTraffic,
    /// Inactive: activation timed out.
    TimedOut,
}

/// The ServerlessService mode: who receives the revision's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SksMode {
    /// The activator is in the request path (buffers at zero, shields bursts).
    Proxy,
    /// Requests go straight to the pods.
    Serve,
}

/// What one revision's KPA remembers: the stable and panic windows, the panic state, the
/// scale-down-delay window, the last valid decision, and the scale-to-zero state machine.
///
/// Serialisable and versioned; its JSON round-trips exactly (floats included), so a restored
/// state makes the same decisions. Its size is bounded by the spec: at most 3600 + 3600 bucket
/// values and 1800 delay entries.
///
/// ```
/// use replicast::kpa::{Kpa, KpaSpec, KpaState};
/// let kpa = Kpa::new(KpaSpec::default()).unwrap();
/// let mut state = kpa.new_state(0, Some(3)); // 3 ready pods at creation: starts panicking
/// assert!(state.panicking());
/// assert_eq!(state.max_panic_pods(), 3);
/// kpa.record(&mut state, 500, 120.0).unwrap();
/// let json = state.to_json();
/// assert_eq!(KpaState::from_json(&json).unwrap(), state);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpaState {
    pub(crate) version: u32,
    pub(crate) stable: WindowAverager,
    pub(crate) panic: WindowAverager,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) panic_time_ms: Option<Timestamp>,
    pub(crate) max_panic_pods: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delay: Option<MaxWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) last_tick_ms: Option<Timestamp>,
    pub(crate) desired_scale: i32,
    pub(crate) excess_burst_capacity: i32,
    pub(crate) active: ActiveStatus,
    pub(crate) active_reason: ActiveReason,
    pub(crate) active_since_ms: Timestamp,
    pub(crate) scale_target_initialized: bool,
    pub(crate) sks_mode: SksMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sks_proxy_since_ms: Option<Timestamp>,
}

impl KpaState {
    /// Whether the decider is in panic mode.
    #[must_use]
    pub fn panicking(&self) -> bool {
        self.panic_time_ms.is_some()
    }

    /// When panic mode was entered or last extended.
    #[must_use]
    pub fn panic_time_ms(&self) -> Option<Timestamp> {
        self.panic_time_ms
    }

    /// The highest desired scale during the current panic (the ready count at creation before
    /// the first panic ends).
    #[must_use]
    pub fn max_panic_pods(&self) -> i32 {
        self.max_panic_pods
    }

    /// The last valid desired scale of the decider (−1 before the first).
    #[must_use]
    pub fn desired_scale(&self) -> i32 {
        self.desired_scale
    }

    /// The last valid excess burst capacity.
    #[must_use]
    pub fn excess_burst_capacity(&self) -> i32 {
        self.excess_burst_capacity
    }

    /// The `Active` condition.
    #[must_use]
    pub fn active(&self) -> ActiveStatus {
        self.active
    }

    /// The reason on the `Active` condition.
    #[must_use]
    pub fn active_reason(&self) -> ActiveReason {
        self.active_reason
    }

    /// Since when the `Active` condition has had its status and reason.
    #[must_use]
    pub fn active_since_ms(&self) -> Timestamp {
        self.active_since_ms
    }

    /// Whether the scale target has once reached the initial scale.
    #[must_use]
    pub fn scale_target_initialized(&self) -> bool {
        self.scale_target_initialized
    }

    /// The ServerlessService mode the last reconcile asked for.
    #[must_use]
    pub fn sks_mode(&self) -> SksMode {
        self.sks_mode
    }

    /// Since when the ServerlessService has been in proxy mode (by this state's record).
    #[must_use]
    pub fn sks_proxy_since_ms(&self) -> Option<Timestamp> {
        self.sks_proxy_since_ms
    }

    /// The instant of the last [`super::Kpa::scale`].
    #[must_use]
    pub fn last_tick_ms(&self) -> Option<Timestamp> {
        self.last_tick_ms
    }

    /// The same state in panic mode since `panic_time_ms` with `max_panic_pods` (to resume a
    /// decider whose panic state is known, e.g. from a running Knative autoscaler).
    #[must_use]
    pub fn with_panic(mut self, panic_time_ms: Timestamp, max_panic_pods: i32) -> Self {
        self.panic_time_ms = Some(panic_time_ms);
        self.max_panic_pods = max_panic_pods;
        self
    }

    /// The same state with the `Active` condition `status` since `since_ms`, with that
    /// status's usual reason (`Queued` when activating, `NoTraffic` when inactive).
    #[must_use]
    pub fn with_active(mut self, status: ActiveStatus, since_ms: Timestamp) -> Self {
        self.active = status;
        self.active_reason = match status {
            ActiveStatus::Active => ActiveReason::None,
            ActiveStatus::Activating => ActiveReason::Queued,
            ActiveStatus::Inactive => ActiveReason::NoTraffic,
        };
        self.active_since_ms = since_ms;
        self
    }

    /// The same state with the scale target marked as having reached (or not) its initial
    /// scale.
    #[must_use]
    pub fn with_scale_target_initialized(mut self, initialized: bool) -> Self {
        self.scale_target_initialized = initialized;
        self
    }

    /// The same state with the ServerlessService in proxy mode since `since_ms`, or in serve
    /// mode for `None`.
    #[must_use]
    pub fn with_sks_proxy_since(mut self, since_ms: Option<Timestamp>) -> Self {
        self.sks_mode = if since_ms.is_some() {
            SksMode::Proxy
        } else {
            SksMode::Serve
        };
        self.sks_proxy_since_ms = since_ms;
        self
    }

    /// The same state with the decider's last valid decision set (e.g. migrated from a running
    /// Knative decider's status).
    #[must_use]
    pub fn with_decision(mut self, desired_scale: i32, excess_burst_capacity: i32) -> Self {
        self.desired_scale = desired_scale;
        self.excess_burst_capacity = excess_burst_capacity;
        self
    }

    /// The state as compact JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Restores a state from [`KpaState::to_json`] output.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for malformed JSON, an unsupported `version`, or
    /// windows out of their bounds.
    pub fn from_json(text: &str) -> Result<Self> {
        let state: Self = serde_json::from_str(text)
            .map_err(|e| Error::serialization(format!("invalid kpa state: {e}")))?;
        state.check()?;
        Ok(state)
    }

    /// Checks a state that came from outside (deserialised).
    pub(crate) fn check(&self) -> Result<()> {
        if self.version != KPA_STATE_VERSION {
            return Err(Error::serialization(format!(
                "kpa state version must be {KPA_STATE_VERSION}, got {}",
                self.version
            )));
        }
        self.stable.check("kpa state stable window")?;
        self.panic.check("kpa state panic window")?;
        if let Some(delay) = &self.delay {
            delay.check("kpa state scale-down delay window")?;
        }
        Ok(())
    }
}
