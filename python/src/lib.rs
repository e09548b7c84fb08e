//! `replicast._replicast`: the compiled half of the `replicast` Python package.
//!
//! Users import `replicast`; this module is private. Classes are frozen and `Send + Sync`
//! (a state's mutable contents sit behind a mutex), which is what makes `gil_used = false`
//! honest. Each call copies its inputs into owned Rust data, then computes with the GIL
//! released.

mod backtest;
mod batch;
mod convert;
mod error;
mod forecast;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use replicast::hpa::{MetricInput, Pod};
use replicast::{Decision, DecisionInput, LoadSamples, Scaler, ScalerSpec, ScalerState};

use crate::convert::{Floats, Role, floats, from_value, to_value, type_name};
use crate::error::{SerializationError, invalid_input, to_pyerr};

/// A validated scaler configuration (replicast's format, a Kubernetes HPA manifest, ...).
#[pyclass(name = "ScalerSpec", module = "replicast._replicast", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyScalerSpec {
    pub(crate) spec: ScalerSpec,
}

pub(crate) fn parse_spec(obj: &Bound<'_, PyAny>) -> PyResult<ScalerSpec> {
    if let Ok(s) = obj.cast::<PyScalerSpec>() {
        return Ok(s.get().spec.clone());
    }
    if let Ok(text) = obj.cast::<PyString>() {
        let text = text.to_str()?;
        let parsed = if text.trim_start().starts_with('{') {
            ScalerSpec::from_json(text)
        } else {
            ScalerSpec::from_yaml(text)
        };
        return parsed.map_err(|e| to_pyerr(&e));
    }
    if obj.cast::<PyDict>().is_ok() {
        let value = to_value(obj, Role::Config)?;
        return ScalerSpec::from_value(value).map_err(|e| to_pyerr(&e));
    }
    Err(PyTypeError::new_err(format!(
        "spec must be a ScalerSpec, a dict, or JSON/YAML text, got {}",
        type_name(obj)
    )))
}

/// The enabled sources, as a Python list literal (`['hpa', 'threshold']`).
fn sources_repr(spec: &ScalerSpec) -> String {
    let names: Vec<String> = source_names(spec)
        .iter()
        .map(|n| format!("'{n}'"))
        .collect();
    format!("[{}]", names.join(", "))
}

fn source_names(spec: &ScalerSpec) -> Vec<&'static str> {
    let mut names = Vec::new();
    if spec.hpa.is_some() {
        names.push("hpa");
    }
    if spec.keda.is_some() {
        names.push("keda");
    }
    if spec.threshold.is_some() {
        names.push("threshold");
    }
    if spec.kpa.is_some() {
        names.push("kpa");
    }
    if spec.predictive.is_some() {
        names.push("predictive");
    }
    if spec.vpa.is_some() {
        names.push("vpa");
    }
    names
}

#[pymethods]
impl PyScalerSpec {
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(Self {
            spec: parse_spec(spec)?,
        })
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        ScalerSpec::from_json(text)
            .map(|spec| Self { spec })
            .map_err(|e| to_pyerr(&e))
    }

    #[staticmethod]
    fn from_yaml(text: &str) -> PyResult<Self> {
        ScalerSpec::from_yaml(text)
            .map(|spec| Self { spec })
            .map_err(|e| to_pyerr(&e))
    }

    fn to_json(&self) -> String {
        self.spec.to_json()
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let value =
            serde_json::to_value(&self.spec).map_err(|e| PyValueError::new_err(e.to_string()))?;
        from_value(py, &value)
    }

    #[getter]
    fn min_replicas(&self) -> u32 {
        self.spec.min_replicas
    }

    #[getter]
    fn max_replicas(&self) -> u32 {
        self.spec.max_replicas
    }

    #[getter]
    fn sources(&self) -> Vec<&'static str> {
        source_names(&self.spec)
    }

    fn __repr__(&self) -> String {
        format!(
            "ScalerSpec(min_replicas={}, max_replicas={}, sources={})",
            self.spec.min_replicas,
            self.spec.max_replicas,
            sources_repr(&self.spec)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().spec.to_json()])?;
        Ok((ctor, args))
    }
}

/// Everything a scaler remembers about one workload between decisions.
#[pyclass(name = "ScalerState", module = "replicast._replicast", frozen, eq)]
#[derive(Debug, Default)]
struct PyScalerState {
    state: Mutex<ScalerState>,
}

impl PyScalerState {
    fn lock(&self) -> MutexGuard<'_, ScalerState> {
        // `decide` works on a copy and writes back only on success: a panic cannot leave a
        // half-updated state behind, so a poisoned lock still guards consistent data.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn snapshot(&self) -> ScalerState {
        self.lock().clone()
    }
}

impl PartialEq for PyScalerState {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.snapshot() == other.snapshot()
    }
}

#[pymethods]
impl PyScalerState {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        ScalerState::from_json(text)
            .map(|state| Self {
                state: Mutex::new(state),
            })
            .map_err(|e| to_pyerr(&e))
    }

    fn to_json(&self) -> String {
        self.lock().to_json()
    }

    #[getter]
    fn last_decision_ms(&self) -> Option<i64> {
        self.lock().last_decision_ms()
    }

    #[getter]
    fn last_rescale_ms(&self) -> Option<i64> {
        self.lock().last_rescale_ms()
    }

    fn __repr__(&self) -> String {
        let state = self.snapshot();
        let show = |v: Option<i64>| v.map_or_else(|| "None".to_owned(), |v| v.to_string());
        format!(
            "ScalerState(last_decision_ms={}, last_rescale_ms={})",
            show(state.last_decision_ms()),
            show(state.last_rescale_ms())
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().to_json()])?;
        Ok((ctor, args))
    }
}

/// The outcome of one decision: the replicas to run and why.
#[pyclass(name = "Decision", module = "replicast._replicast", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
struct PyDecision {
    decision: Decision,
}

impl PyDecision {
    fn field<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
        let value = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
        from_value(py, &value)
    }
}

#[pymethods]
impl PyDecision {
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        serde_json::from_str(text)
            .map(|decision| Self { decision })
            .map_err(|e| SerializationError::new_err(format!("invalid decision: {e}")))
    }

    #[getter]
    fn replicas(&self) -> u32 {
        self.decision.replicas
    }

    #[getter]
    fn current_replicas(&self) -> u32 {
        self.decision.current_replicas
    }

    #[getter]
    fn rescale(&self) -> bool {
        self.decision.rescale
    }

    #[getter]
    fn proposals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.proposals)
    }

    #[getter]
    fn steps<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.steps)
    }

    #[getter]
    fn conditions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.conditions)
    }

    #[getter]
    fn errors(&self) -> Vec<String> {
        self.decision.errors.clone()
    }

    #[getter]
    fn keda<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.keda)
    }

    #[getter]
    fn kpa<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.kpa)
    }

    #[getter]
    fn vertical<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision.vertical)
    }

    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Self::field(py, &self.decision)
    }

    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.decision).map_err(|e| PyValueError::new_err(e.to_string()))
    }

    fn __str__(&self) -> String {
        self.decision.to_string()
    }

    fn __repr__(&self) -> String {
        let d = &self.decision;
        format!(
            "Decision(replicas={}, current_replicas={}, rescale={}, proposals={}, steps={}, errors={})",
            d.replicas,
            d.current_replicas,
            if d.rescale { "True" } else { "False" },
            d.proposals.len(),
            d.steps.len(),
            d.errors.len()
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let ctor = slf.get_type().getattr("from_json")?;
        let args = PyTuple::new(slf.py(), [slf.get().to_json()?])?;
        Ok((ctor, args))
    }
}

/// A validated spec, ready to decide; immutable and shareable across threads.
#[pyclass(name = "Scaler", module = "replicast._replicast", frozen)]
#[derive(Debug)]
struct PyScaler {
    scaler: Scaler,
    /// Columns of `decide_batch`'s `values`: the HPA metrics, then the threshold signals.
    hpa_metrics: usize,
    threshold_signals: Vec<String>,
}

fn replicas_arg(name: &str, value: i64) -> PyResult<u32> {
    i32::try_from(value)
        .ok()
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| invalid_input(format!("{name} must be in [0, {}], got {value}", i32::MAX)))
}

fn replicas_at(name: &str, values: &[f64], i: usize) -> Result<u32, String> {
    let v = values[i];
    if v.is_finite() && v >= 0.0 && v <= f64::from(i32::MAX) && v.fract() == 0.0 {
        Ok(v as u32)
    } else {
        Err(format!(
            "{name}[{i}] must be a whole number in [0, {}], got {v}",
            i32::MAX
        ))
    }
}

/// `{"kind": "aggregated", "value": <float or int>, "ready_replicas": <int>}` read directly,
/// without the generic dict → JSON value → serde route: the common `metrics` item on the
/// `decide` hot path. Anything else (another kind, an extra key, a subclass, NaN, a value out
/// of range) returns `None` and goes the generic route, which also produces the errors.
fn aggregated_metric(item: &Bound<'_, PyAny>) -> Option<MetricInput> {
    let py = item.py();
    let dict = item.cast_exact::<PyDict>().ok()?;
    if dict.len() != 3 {
        return None;
    }
    let kind = dict.get_item(intern!(py, "kind")).ok()??;
    if kind.cast_exact::<PyString>().ok()?.to_str().ok()? != "aggregated" {
        return None;
    }
    let value = dict.get_item(intern!(py, "value")).ok()??;
    let value = if let Ok(f) = value.cast_exact::<PyFloat>() {
        f.value()
    } else if value.is_exact_instance_of::<PyInt>() {
        // as serde reads a JSON integer into an f64
        value.extract::<i64>().ok()? as f64
    } else {
        return None;
    };
    let ready_replicas = dict.get_item(intern!(py, "ready_replicas")).ok()??;
    if !value.is_finite() || !ready_replicas.is_exact_instance_of::<PyInt>() {
        return None;
    }
    Some(MetricInput::Aggregated {
        value,
        ready_replicas: ready_replicas.extract().ok()?,
    })
}

/// A conversion's `InvalidInputError` (a NaN or infinity in plain data) with the argument it
/// was found in prefixed (`metrics[0]: values must be finite numbers, got NaN`), as the core's
/// messages name theirs; other errors unchanged.
fn in_context(py: Python<'_>, e: PyErr, at: &str) -> PyErr {
    if e.is_instance_of::<crate::error::InvalidInputError>(py) {
        invalid_input(format!("{at}: {}", e.value(py)))
    } else {
        e
    }
}

/// A sequence of dicts as `T`s, each through `fast` when it recognises the item, else through
/// the generic dict → JSON value → serde route.
fn from_list<T: serde::de::DeserializeOwned>(
    name: &str,
    obj: Option<&Bound<'_, PyAny>>,
    fast: fn(&Bound<'_, PyAny>) -> Option<T>,
) -> PyResult<Option<Vec<T>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let one = |i: usize, item: &Bound<'_, PyAny>| -> PyResult<T> {
        if let Some(v) = fast(item) {
            return Ok(v);
        }
        let value = to_value(item, Role::Input)
            .map_err(|e| in_context(item.py(), e, &format!("{name}[{i}]")))?;
        serde_json::from_value(value).map_err(|e| invalid_input(format!("{name}[{i}]: {e}")))
    };
    // a list, the usual case, without an iterator object or the str/dict checks
    if let Ok(list) = obj.cast_exact::<PyList>() {
        let mut out = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            out.push(one(i, &item)?);
        }
        return Ok(Some(out));
    }
    if obj.cast::<PyString>().is_ok() || obj.cast::<PyDict>().is_ok() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a sequence of dicts, got {}",
            type_name(obj)
        )));
    }
    let mut out = Vec::new();
    for (i, item) in obj.try_iter()?.enumerate() {
        out.push(one(i, &item?)?);
    }
    Ok(Some(out))
}

#[pymethods]
impl PyScaler {
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let spec = parse_spec(spec)?;
        let threshold_signals = spec
            .threshold
            .as_ref()
            .map(|t| t.rules.iter().map(|r| r.signal.clone()).collect())
            .unwrap_or_default();
        let scaler = Scaler::new(spec).map_err(|e| to_pyerr(&e))?;
        let hpa_metrics = scaler.metric_input_count();
        Ok(Self {
            scaler,
            hpa_metrics,
            threshold_signals,
        })
    }

    #[getter]
    fn spec(&self) -> PyScalerSpec {
        PyScalerSpec {
            spec: self.scaler.spec().clone(),
        }
    }

    /// Decides the replicas for one workload, updating `state` on success (GIL released).
    ///
    /// Args:
    ///     state: The workload's ScalerState; updated only when the decision succeeds.
    ///     now_ms: The decision instant in milliseconds; never before the previous one.
    ///     current_replicas: The target's current desired replicas.
    ///     status_replicas: Replicas that exist; defaults to current_replicas.
    ///     ready_replicas: Ready pods, when pods is not given.
    ///     pods: Per-pod state dicts.
    ///     metrics: One input dict per HPA metric, in spec order, e.g.
    ///         {"kind": "aggregated", "value": 85.0, "ready_replicas": 4}.
    ///     signals: Named values for the threshold source.
    ///     healthy: The caller's health check; False blocks scale-down.
    ///     load: The mean load since load_since_ms (or over the predictive source's last
    ///         sample interval), for the predictive source.
    ///     load_since_ms: Where the window of load starts.
    ///     load_samples: Instead of load: the load samples since the previous decision,
    ///         oldest first, the last ending at now_ms (1-D array-like).
    ///     load_step_ms: The spacing of load_samples, ms (required with them).
    ///     kpa: For a kpa source, a dict with "samples" ([{"time_ms", "value"}], the
    ///         revision-wide totals since the previous decision) or "averages"
    ///         ({"stable", "panic"}), and optionally "sks_proxy_since_ms",
    ///         "activator_in_path".
    ///     container_usage: For a vpa source, per-container usage dicts: "container", "pod",
    ///         "cpu_cores", "memory_bytes", optionally "start_ms",
    ///         "oom_requested_memory_bytes".
    ///     container_resources: The pod's current "requests" and "limits" per "container"
    ///         ({"cpu_millicores", "memory_bytes"}).
    ///
    /// Returns:
    ///     The Decision, with its proposals, steps and conditions.
    ///
    /// Raises:
    ///     InvalidInputError: An unusable observation (NaN, negative, out of order, malformed).
    ///     TypeError: An argument of the wrong type.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (state, *, now_ms, current_replicas, status_replicas=None,
        ready_replicas=None, pods=None, metrics=None, signals=None, healthy=None, load=None,
        load_since_ms=None, load_samples=None, load_step_ms=None, kpa=None,
        container_usage=None, container_resources=None))]
    fn decide(
        &self,
        py: Python<'_>,
        state: &Bound<'_, PyScalerState>,
        now_ms: i64,
        current_replicas: i64,
        status_replicas: Option<i64>,
        ready_replicas: Option<i64>,
        pods: Option<&Bound<'_, PyAny>>,
        metrics: Option<&Bound<'_, PyAny>>,
        signals: Option<BTreeMap<String, f64>>,
        healthy: Option<bool>,
        load: Option<f64>,
        load_since_ms: Option<i64>,
        load_samples: Option<&Bound<'_, PyAny>>,
        load_step_ms: Option<i64>,
        kpa: Option<&Bound<'_, PyAny>>,
        container_usage: Option<&Bound<'_, PyAny>>,
        container_resources: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDecision> {
        let load_samples = match (load_samples, load_step_ms) {
            (Some(values), Some(step_ms)) => Some(LoadSamples {
                step_ms,
                values: floats(values, "load_samples", &[1])?.data,
            }),
            (None, None) => None,
            _ => {
                return Err(PyTypeError::new_err(
                    "load_samples and load_step_ms go together: give both or neither",
                ));
            }
        };
        let input = DecisionInput {
            now_ms,
            current_replicas: replicas_arg("current_replicas", current_replicas)?,
            status_replicas: status_replicas
                .map(|v| replicas_arg("status_replicas", v))
                .transpose()?,
            ready_replicas: ready_replicas
                .map(|v| replicas_arg("ready_replicas", v))
                .transpose()?,
            pods: from_list::<Pod>("pods", pods, |_| None)?,
            metrics: from_list("metrics", metrics, aggregated_metric)?.unwrap_or_default(),
            signals: signals.unwrap_or_default(),
            healthy,
            load,
            load_since_ms,
            load_samples,
            kpa: kpa
                .filter(|o| !o.is_none())
                .map(|o| {
                    serde_json::from_value(
                        to_value(o, Role::Input).map_err(|e| in_context(o.py(), e, "kpa"))?,
                    )
                    .map_err(|e| invalid_input(format!("kpa: {e}")))
                })
                .transpose()?,
            container_usage: from_list("container_usage", container_usage, |_| None)?
                .unwrap_or_default(),
            container_resources: from_list("container_resources", container_resources, |_| None)?
                .unwrap_or_default(),
        };
        let state = state.get();
        let scaler = &self.scaler;
        py.detach(|| scaler.decide(&mut state.lock(), &input))
            .map(|decision| PyDecision { decision })
            .map_err(|e| to_pyerr(&e))
    }

    /// Decides for many workloads at one instant in one call (GIL released).
    ///
    /// Row i of `values` is workload i: one column per HPA metric (an aggregated value), then
    /// one per threshold signal. NaN marks a missing value: the workload holds on it.
    ///
    /// Args:
    ///     states: One ScalerState per workload.
    ///     now_ms: The decision instant in milliseconds.
    ///     current_replicas: 1-D array-like of whole numbers.
    ///     values: 2-D (n_workloads, n_columns) array-like, or 1-D for one column.
    ///     ready_replicas: 1-D array-like; defaults to current_replicas.
    ///     on_error: "raise" (the first workload error) or "nan" (NaN in its slot).
    ///
    /// Returns:
    ///     A float64 ndarray of replicas, one per workload.
    ///
    /// Raises:
    ///     ValueError: Wrong dimensionality or length.
    ///     TypeError: A non-numeric array or a states item that is not a ScalerState.
    ///     InvalidInputError: A workload's observation is unusable (on_error="raise").
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (states, *, now_ms, current_replicas, values, ready_replicas=None,
        on_error="raise"))]
    fn decide_batch<'py>(
        &self,
        py: Python<'py>,
        states: &Bound<'py, PyAny>,
        now_ms: i64,
        current_replicas: &Bound<'py, PyAny>,
        values: &Bound<'py, PyAny>,
        ready_replicas: Option<&Bound<'py, PyAny>>,
        on_error: &str,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let raise = match on_error {
            "raise" => true,
            "nan" => false,
            other => {
                return Err(PyValueError::new_err(format!(
                    "on_error must be \"raise\" or \"nan\", got {other:?}"
                )));
            }
        };
        if states.cast::<PyString>().is_ok() {
            return Err(PyTypeError::new_err(
                "states must be a sequence of ScalerState",
            ));
        }
        let mut state_refs: Vec<Bound<'py, PyScalerState>> = Vec::new();
        for item in states.try_iter()? {
            let item = item?;
            let state = item.cast_into::<PyScalerState>().map_err(|e| {
                PyTypeError::new_err(format!(
                    "states must contain ScalerState objects, got {}",
                    type_name(e.into_inner().as_any())
                ))
            })?;
            state_refs.push(state);
        }
        let n = state_refs.len();
        let current = floats(current_replicas, "current_replicas", &[1])?;
        let values = floats(values, "values", &[1, 2])?;
        let ready = ready_replicas
            .filter(|r| !r.is_none())
            .map(|r| floats(r, "ready_replicas", &[1]))
            .transpose()?;
        let columns = self.hpa_metrics + self.threshold_signals.len();
        check_batch_shapes(n, columns, &current, &values, ready.as_ref())?;

        let refs: Vec<&PyScalerState> = state_refs.iter().map(Bound::get).collect();
        let (replicas, first_error) = py.detach(|| {
            let mut replicas = vec![f64::NAN; n];
            let mut first_error: Option<(usize, Result<replicast::Error, String>)> = None;
            for (i, state) in refs.iter().enumerate() {
                let outcome = self
                    .batch_input(i, now_ms, columns, &current, &values, ready.as_ref())
                    .map_err(Err)
                    .and_then(|input| self.scaler.decide(&mut state.lock(), &input).map_err(Ok));
                match outcome {
                    Ok(d) => replicas[i] = f64::from(d.replicas),
                    Err(e) => {
                        if first_error.is_none() {
                            first_error = Some((i, e));
                        }
                    }
                }
            }
            (replicas, first_error)
        });
        if raise && let Some((i, e)) = first_error {
            return Err(match e {
                Ok(e) => {
                    let err = to_pyerr(&e);
                    let message = format!("workload {i}: {}", e.message());
                    PyErr::from_type(err.get_type(py), message)
                }
                Err(message) => invalid_input(message),
            });
        }
        Ok(replicas.into_pyarray(py))
    }

    fn __repr__(&self) -> String {
        let spec = self.scaler.spec();
        format!(
            "Scaler(min_replicas={}, max_replicas={}, sources={})",
            spec.min_replicas,
            spec.max_replicas,
            sources_repr(spec)
        )
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let ctor = slf.get_type().into_any();
        let spec = Bound::new(py, slf.get().spec())?;
        let args = PyTuple::new(py, [spec])?;
        Ok((ctor, args))
    }
}

fn check_batch_shapes(
    n: usize,
    columns: usize,
    current: &Floats,
    values: &Floats,
    ready: Option<&Floats>,
) -> PyResult<()> {
    if current.shape[0] != n {
        return Err(PyValueError::new_err(format!(
            "current_replicas must have one entry per state ({n}), got {}",
            current.shape[0]
        )));
    }
    if let Some(r) = ready
        && r.shape[0] != n
    {
        return Err(PyValueError::new_err(format!(
            "ready_replicas must have one entry per state ({n}), got {}",
            r.shape[0]
        )));
    }
    let (rows, cols) = match values.shape[..] {
        [rows] => (rows, 1),
        [rows, cols] => (rows, cols),
        _ => (0, 0),
    };
    if rows != n || cols != columns {
        return Err(PyValueError::new_err(format!(
            "values must have shape ({n}, {columns}) (one row per state, one column per hpa metric then threshold signal), got {:?}",
            values.shape
        )));
    }
    Ok(())
}

impl PyScaler {
    /// Row `i` of a batch as a [`DecisionInput`]: HPA columns become aggregated metric
    /// inputs (NaN → unavailable), threshold columns become signals (NaN → missing).
    fn batch_input(
        &self,
        i: usize,
        now_ms: i64,
        columns: usize,
        current: &Floats,
        values: &Floats,
        ready: Option<&Floats>,
    ) -> Result<DecisionInput, String> {
        let current_replicas = replicas_at("current_replicas", &current.data, i)?;
        let ready_replicas = match ready {
            Some(r) => replicas_at("ready_replicas", &r.data, i)?,
            None => current_replicas,
        };
        let row = &values.data[i * columns..(i + 1) * columns];
        let metrics = row[..self.hpa_metrics]
            .iter()
            .enumerate()
            .map(|(j, v)| {
                if v.is_nan() {
                    MetricInput::Unavailable {
                        reason: format!("no value for metric {j} (NaN)"),
                    }
                } else {
                    MetricInput::Aggregated {
                        value: *v,
                        ready_replicas,
                    }
                }
            })
            .collect();
        let signals = self
            .threshold_signals
            .iter()
            .zip(&row[self.hpa_metrics..])
            .filter(|(_, v)| !v.is_nan())
            .map(|(name, v)| (name.clone(), *v))
            .collect();
        Ok(DecisionInput {
            now_ms,
            current_replicas,
            ready_replicas: ready.map(|_| ready_replicas),
            metrics,
            signals,
            ..DecisionInput::default()
        })
    }
}

/// The compiled module of the `replicast` package.
#[pymodule(gil_used = false)]
fn _replicast(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<PyScalerSpec>()?;
    m.add_class::<PyScalerState>()?;
    m.add_class::<PyScaler>()?;
    m.add_class::<PyDecision>()?;
    m.add_class::<forecast::PyModel>()?;
    m.add_class::<forecast::PyFittedModel>()?;
    m.add_class::<forecast::PyForecast>()?;
    m.add_function(wrap_pyfunction!(backtest::backtest, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::backtest_batch, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::tune, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::tune_batch, m)?)?;
    m.add_function(wrap_pyfunction!(backtest::parse_trace, m)?)?;
    Ok(())
}
