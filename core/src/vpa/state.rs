//! [`VpaState`]: everything the recommender remembers about one workload, as plain serde data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::checkpoint::CheckpointStatus;
use super::container::{AggregateState, ContainerState};
use super::engine::Vpa;
use super::gotime;
use crate::error::{Error, Result};

/// The version written in every serialised [`VpaState`].
pub const VPA_STATE_VERSION: u32 = 1;

/// The most container names one state tracks (a pod rarely has more than a handful).
pub const MAX_CONTAINERS: usize = 64;

/// The most pods tracked per container name (their per-interval memory peaks and CPU sample
/// order); pods idle for a whole aggregation interval are dropped by [`VpaState::gc`].
pub const MAX_PODS_PER_CONTAINER: usize = 1024;

/// Longest accepted container or pod name (a Kubernetes object name).
const MAX_NAME_LEN: usize = 253;

/// The recommender's memory of one workload: per container name, the aggregate histograms
/// (and each pod's peak bookkeeping). Serialises to compact JSON (sparse buckets, exact
/// floats) with a `version`; `serde_json` round-trips it bit for bit, so a restored state gives
/// identical recommendations. Size: a few KiB per container at most (176 buckets × 2).
///
/// Observations are validated: a time outside years 1–9999 or a non-finite value is an
/// [`crate::ErrorKind::InvalidInput`] error (state unchanged); a negative usage, a duplicate or
/// out-of-order sample is **discarded** as upstream does, reported by the `bool` result.
///
/// ```
/// use replicast::vpa::{Vpa, VpaSpec, VpaState};
/// let vpa = Vpa::new(VpaSpec::default()).unwrap();
/// let mut state = VpaState::new();
/// let t0 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
/// for i in 0..60 {
///     let t = t0 + i * 60_000;
///     assert!(state.add_cpu_sample(&vpa, "app", "", t, 500).unwrap());
///     assert!(state.add_memory_sample(&vpa, "app", "", t, 500 << 20).unwrap());
/// }
/// // a sample older than the last one is discarded, not an error
/// assert!(!state.add_cpu_sample(&vpa, "app", "", t0, 500).unwrap());
/// let rec = vpa.recommend(&state, t0 + 3_600_000, &[]).unwrap();
/// assert_eq!(rec.containers[0].target.cpu_millicores, Some(587));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "StateRepr", into = "StateRepr")]
pub struct VpaState {
    containers: BTreeMap<String, ContainerState>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateRepr {
    version: u32,
    containers: BTreeMap<String, ContainerState>,
}

impl From<VpaState> for StateRepr {
    fn from(s: VpaState) -> Self {
        StateRepr {
            version: VPA_STATE_VERSION,
            containers: s.containers,
        }
    }
}

impl TryFrom<StateRepr> for VpaState {
    type Error = Error;
    fn try_from(repr: StateRepr) -> Result<Self> {
        if repr.version != VPA_STATE_VERSION {
            return Err(Error::serialization(format!(
                "vpa state version must be {VPA_STATE_VERSION}, got {}",
                repr.version
            )));
        }
        if repr.containers.len() > MAX_CONTAINERS {
            return Err(Error::serialization(format!(
                "vpa state has {} containers, at most {MAX_CONTAINERS} are allowed",
                repr.containers.len()
            )));
        }
        Ok(VpaState {
            containers: repr.containers,
        })
    }
}

/// One container's usage at one instant, as plain data (what a controller scrapes per
/// container and decision): the form the `Scaler` takes in its decision input.
///
/// Floats are converted to the VPA's integer units by rounding to the nearest millicore / byte
/// (the metrics API's quantities are integers already; a Prometheus rate is not).
///
/// | field | unit | meaning |
/// | --- | --- | --- |
/// | `container` | | container name |
/// | `pod` | | pod instance (`""` = one stream for the container) |
/// | `start_ms` | ms | measurement start; defaults to the call's `now_ms` |
/// | `cpu_cores` | cores | CPU usage averaged over the metrics window |
/// | `memory_bytes` | B | memory working set |
/// | `oom_requested_memory_bytes` | B | the container was OOM-killed at `start_ms` with this memory request |
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerUsage {
    /// Container name.
    pub container: String,
    /// Pod instance (`""`: a single stream per container).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pod: String,
    /// Measurement start in ms (default: the `now_ms` of the call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<i64>,
    /// CPU usage in cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<f64>,
    /// Memory working set in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<f64>,
    /// An OOM kill at `start_ms`, with the container's memory request at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oom_requested_memory_bytes: Option<f64>,
}

/// Which parts of a [`ContainerUsage`] were accepted (`None`: not provided).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The CPU sample was recorded (false: negative, duplicate or out of order).
    pub cpu: Option<bool>,
    /// The memory sample was recorded (false: negative or out of order).
    pub memory: Option<bool>,
    /// The OOM was recorded (false: older than the last memory sample by more than one
    /// aggregation interval).
    pub oom: Option<bool>,
}

fn check_name(what: &str, name: &str, allow_empty: bool) -> Result<()> {
    if (!allow_empty && name.is_empty()) || name.len() > MAX_NAME_LEN {
        return Err(Error::invalid_input(format!(
            "{what} must be {} at most {MAX_NAME_LEN} bytes long, got {} bytes",
            if allow_empty { "" } else { "non-empty and" },
            name.len()
        )));
    }
    Ok(())
}

fn check_time(what: &str, t_ms: i64) -> Result<()> {
    if gotime::in_range(t_ms) {
        Ok(())
    } else {
        Err(Error::invalid_input(format!(
            "{what} must be after 0001-01-01T00:00:00Z and at most 9999-12-31T23:59:59.999Z (Unix ms in ({}, {}]), got {t_ms}",
            crate::time::GO_ZERO_TIME_MS,
            gotime::MAX_TIME_MS
        )))
    }
}

fn to_integer(what: &str, v: f64, scale: f64) -> Result<i64> {
    let x = (v * scale).round();
    if !x.is_finite() || x.abs() >= 9.2e18 {
        return Err(Error::invalid_input(format!(
            "{what} must be a finite number in range, got {v}"
        )));
    }
    Ok(x as i64)
}

impl VpaState {
    /// An empty state.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The containers tracked, by name.
    #[must_use]
    pub fn containers(&self) -> &BTreeMap<String, ContainerState> {
        &self.containers
    }

    /// One container's state.
    #[must_use]
    pub fn container(&self, name: &str) -> Option<&ContainerState> {
        self.containers.get(name)
    }

    /// The state as compact JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A state from [`VpaState::to_json`]'s output.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] for malformed JSON, a wrong version or inconsistent
    /// histograms.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| {
            Error::serialization(format!(
                "invalid vpa state: {}",
                crate::error::serde_message(&e)
            ))
        })
    }

    fn entry(
        &mut self,
        vpa: &Vpa,
        container: &str,
        pod: &str,
        t_ms: i64,
    ) -> Result<&mut ContainerState> {
        check_name("container name", container, false)?;
        check_name("pod name", pod, true)?;
        if !self.containers.contains_key(container) && self.containers.len() >= MAX_CONTAINERS {
            return Err(Error::invalid_input(format!(
                "a vpa state tracks at most {MAX_CONTAINERS} containers; cannot add {container:?}"
            )));
        }
        if !self.containers.contains_key(container) {
            self.containers.insert(
                container.to_owned(),
                ContainerState {
                    aggregate: vpa.new_aggregate(t_ms),
                    pods: BTreeMap::new(),
                },
            );
        }
        let Some(state) = self.containers.get_mut(container) else {
            return Err(Error::invalid_input("container vanished"));
        };
        vpa.check_aggregate(container, &state.aggregate)?;
        if !state.pods.contains_key(pod) && state.pods.len() >= MAX_PODS_PER_CONTAINER {
            return Err(Error::invalid_input(format!(
                "a vpa state tracks at most {MAX_PODS_PER_CONTAINER} pods per container; cannot add pod {pod:?} to {container:?} (call gc or remove_pod)"
            )));
        }
        Ok(state)
    }

    /// Records a CPU usage sample (`cpu_millicores`, as the metrics API reports it) measured
    /// from `start_ms` by `pod`'s `container`. Returns whether it was accepted: negative usage
    /// and samples not strictly newer than the pod's last CPU sample are discarded.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for an empty or too long name, a time outside years
    /// 1–9999, too many containers or pods, or a state built with another histogram scheme.
    pub fn add_cpu_sample(
        &mut self,
        vpa: &Vpa,
        container: &str,
        pod: &str,
        start_ms: i64,
        cpu_millicores: i64,
    ) -> Result<bool> {
        check_time("cpu sample start_ms", start_ms)?;
        if cpu_millicores < 0 {
            return Ok(false);
        }
        Ok(self
            .entry(vpa, container, pod, start_ms)?
            .add_cpu_sample(pod, start_ms, cpu_millicores))
    }

    /// Records a memory working-set sample in bytes. Returns whether it was accepted:
    /// negative usage and samples older than the pod's last memory sample are discarded.
    ///
    /// # Errors
    /// As [`VpaState::add_cpu_sample`].
    pub fn add_memory_sample(
        &mut self,
        vpa: &Vpa,
        container: &str,
        pod: &str,
        start_ms: i64,
        memory_bytes: i64,
    ) -> Result<bool> {
        check_time("memory sample start_ms", start_ms)?;
        if memory_bytes < 0 {
            return Ok(false);
        }
        let config = vpa.memory_config(container);
        Ok(self
            .entry(vpa, container, pod, start_ms)?
            .add_memory_sample(pod, start_ms, memory_bytes, false, &config))
    }

    /// Records an OOM kill at `time_ms` of a container that requested
    /// `requested_memory_bytes` (spec §6.3–6.4, main's staleness rule). Returns `false` when the
    /// OOM is more than one aggregation interval older than the pod's last memory sample
    /// (upstream logs and drops it).
    ///
    /// # Errors
    /// As [`VpaState::add_cpu_sample`]; a negative request is an
    /// [`crate::ErrorKind::InvalidInput`] error.
    pub fn record_oom(
        &mut self,
        vpa: &Vpa,
        container: &str,
        pod: &str,
        time_ms: i64,
        requested_memory_bytes: i64,
    ) -> Result<bool> {
        check_time("oom time_ms", time_ms)?;
        if requested_memory_bytes < 0 {
            return Err(Error::invalid_input(format!(
                "oom requested_memory_bytes must be >= 0, got {requested_memory_bytes}"
            )));
        }
        let config = vpa.memory_config(container);
        Ok(self.entry(vpa, container, pod, time_ms)?.record_oom(
            pod,
            time_ms,
            requested_memory_bytes,
            &config,
        ))
    }

    /// Records a batch of [`ContainerUsage`] observations in order (per entry: CPU, memory,
    /// then the OOM, as upstream's feeder does). Every entry is validated first, so on error
    /// nothing is recorded.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a NaN or infinite value, a time outside years
    /// 1–9999, a negative OOM request, a bad name, or too many containers/pods.
    pub fn observe(
        &mut self,
        vpa: &Vpa,
        now_ms: i64,
        usage: &[ContainerUsage],
    ) -> Result<Vec<Observed>> {
        struct Parsed<'a> {
            container: &'a str,
            pod: &'a str,
            t: i64,
            cpu: Option<i64>,
            memory: Option<i64>,
            oom: Option<i64>,
        }
        let mut parsed = Vec::with_capacity(usage.len());
        for (i, u) in usage.iter().enumerate() {
            let at = |field: &str| format!("usage[{i}].{field}");
            check_name(&at("container"), &u.container, false)?;
            check_name(&at("pod"), &u.pod, true)?;
            match u.start_ms {
                Some(t) => check_time(&at("start_ms"), t)?,
                // the default start names what the caller gave
                None => check_time(&format!("now_ms (the start of usage[{i}])"), now_ms)?,
            }
            let t = u.start_ms.unwrap_or(now_ms);
            let cpu = u
                .cpu_cores
                .map(|v| to_integer(&at("cpu_cores"), v, 1000.0))
                .transpose()?;
            let memory = u
                .memory_bytes
                .map(|v| to_integer(&at("memory_bytes"), v, 1.0))
                .transpose()?;
            let oom = u
                .oom_requested_memory_bytes
                .map(|v| to_integer(&at("oom_requested_memory_bytes"), v, 1.0))
                .transpose()?;
            if let Some(o) = oom
                && o < 0
            {
                return Err(Error::invalid_input(format!(
                    "{} must be >= 0, got {o}",
                    at("oom_requested_memory_bytes")
                )));
            }
            parsed.push(Parsed {
                container: &u.container,
                pod: &u.pod,
                t,
                cpu,
                memory,
                oom,
            });
        }
        // capacity and scheme checks before any change
        let mut new_pods: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
        for p in &parsed {
            let existing = self.containers.get(p.container);
            if let Some(c) = existing {
                vpa.check_aggregate(p.container, &c.aggregate)?;
            }
            let pods = new_pods.entry(p.container).or_default();
            if existing.is_none_or(|c| !c.pods.contains_key(p.pod)) {
                pods.insert(p.pod);
            }
            let tracked = existing.map_or(0, |c| c.pods.len()) + pods.len();
            if tracked > MAX_PODS_PER_CONTAINER {
                return Err(Error::invalid_input(format!(
                    "a vpa state tracks at most {MAX_PODS_PER_CONTAINER} pods per container; cannot add pod {:?} to {:?} (call gc or remove_pod)",
                    p.pod, p.container
                )));
            }
        }
        let added = new_pods
            .keys()
            .filter(|c| !self.containers.contains_key(**c))
            .count();
        if self.containers.len() + added > MAX_CONTAINERS {
            return Err(Error::invalid_input(format!(
                "a vpa state tracks at most {MAX_CONTAINERS} containers, this observation would make {}",
                self.containers.len() + added
            )));
        }
        let mut out = Vec::with_capacity(parsed.len());
        for p in parsed {
            let mut observed = Observed::default();
            if let Some(cpu) = p.cpu {
                observed.cpu = Some(self.add_cpu_sample(vpa, p.container, p.pod, p.t, cpu)?);
            }
            if let Some(memory) = p.memory {
                observed.memory =
                    Some(self.add_memory_sample(vpa, p.container, p.pod, p.t, memory)?);
            }
            if let Some(request) = p.oom {
                observed.oom = Some(self.record_oom(vpa, p.container, p.pod, p.t, request)?);
            }
            out.push(observed);
        }
        Ok(out)
    }

    /// Forgets `pod`'s bookkeeping in every container (the pod was deleted). Its peaks stay in
    /// the aggregates, as upstream keeps them.
    pub fn remove_pod(&mut self, pod: &str) {
        for c in self.containers.values_mut() {
            c.pods.remove(pod);
        }
    }

    /// Garbage collection at `now_ms` (upstream's aggregate GC): drops containers without a CPU
    /// sample for a whole memory aggregation window (8 days by default; an empty one 8 days
    /// after creation) and pods idle for a whole aggregation interval. Returns the names of
    /// the containers dropped.
    pub fn gc(&mut self, vpa: &Vpa, now_ms: i64) -> Vec<String> {
        let mut removed = Vec::new();
        self.containers.retain(|name, c| {
            let config = vpa.memory_config(name);
            if c.aggregate.is_expired(now_ms, config.window_ms()) {
                removed.push(name.clone());
                return false;
            }
            c.pods.retain(|_, p| {
                p.last_activity_ms().is_some_and(|last| {
                    i128::from(now_ms) < i128::from(last) + i128::from(config.interval_ms)
                })
            });
            true
        });
        removed
    }

    /// One checkpoint status per container (upstream's checkpoint writer): each aggregate with
    /// the in-progress memory peaks of its pods subtracted (they will be observed again after a
    /// restart), `lastUpdateTime = now_ms`.
    #[must_use]
    pub fn to_checkpoints(&self, now_ms: i64) -> BTreeMap<String, CheckpointStatus> {
        self.containers
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    c.aggregate_for_checkpoint(now_ms).save_checkpoint(now_ms),
                )
            })
            .collect()
    }

    /// A state seeded from checkpoint statuses by container name (e.g. the `status` of each
    /// real `VerticalPodAutoscalerCheckpoint` of a VPA). Each aggregate is created at `now_ms`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Serialization`] as [`AggregateState::load_checkpoint`] (naming the
    /// container), [`crate::ErrorKind::InvalidInput`] for a bad container name or too many.
    pub fn from_checkpoints(
        vpa: &Vpa,
        checkpoints: &BTreeMap<String, CheckpointStatus>,
        now_ms: i64,
    ) -> Result<Self> {
        let mut state = VpaState::new();
        for (name, status) in checkpoints {
            state.load_checkpoint(vpa, name, status, now_ms)?;
        }
        Ok(state)
    }

    /// Loads one container's checkpoint into the state (appending to an existing aggregate as
    /// upstream's loader does; a new aggregate is created at `now_ms`).
    ///
    /// # Errors
    /// As [`VpaState::from_checkpoints`]; the state is unchanged on error.
    pub fn load_checkpoint(
        &mut self,
        vpa: &Vpa,
        container: &str,
        status: &CheckpointStatus,
        now_ms: i64,
    ) -> Result<()> {
        check_name("checkpoint container name", container, false)?;
        if !self.containers.contains_key(container) && self.containers.len() >= MAX_CONTAINERS {
            return Err(Error::invalid_input(format!(
                "a vpa state tracks at most {MAX_CONTAINERS} containers; cannot add {container:?}"
            )));
        }
        let mut aggregate = match self.containers.get(container) {
            Some(c) => {
                vpa.check_aggregate(container, &c.aggregate)?;
                c.aggregate.clone()
            }
            None => vpa.new_aggregate(now_ms),
        };
        aggregate
            .load_checkpoint(status)
            .map_err(|e| e.context(format!("checkpoint of container {container:?}")))?;
        match self.containers.get_mut(container) {
            Some(c) => c.aggregate = aggregate,
            None => {
                self.containers.insert(
                    container.to_owned(),
                    ContainerState {
                        aggregate,
                        pods: BTreeMap::new(),
                    },
                );
            }
        }
        Ok(())
    }

    /// Replaces (or inserts) one container's aggregate, e.g. one built by hand for a test.
    ///
    /// # Errors
    /// [`crate::ErrorKind::InvalidInput`] for a bad name, too many containers, or an aggregate
    /// whose histograms do not match `vpa`'s scheme.
    pub fn set_aggregate(
        &mut self,
        vpa: &Vpa,
        container: &str,
        aggregate: AggregateState,
    ) -> Result<()> {
        check_name("container name", container, false)?;
        vpa.check_aggregate(container, &aggregate)?;
        if !self.containers.contains_key(container) && self.containers.len() >= MAX_CONTAINERS {
            return Err(Error::invalid_input(format!(
                "a vpa state tracks at most {MAX_CONTAINERS} containers; cannot add {container:?}"
            )));
        }
        self.containers
            .entry(container.to_owned())
            .and_modify(|c| c.aggregate = aggregate.clone())
            .or_insert_with(|| ContainerState {
                aggregate,
                pods: BTreeMap::new(),
            });
        Ok(())
    }
}
