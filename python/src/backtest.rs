//! `backtest` and `tune`, one workload at a time or a batch of them: replay load traces
//! through policies and the oracle, or search a policy for an SLO, with the GIL released.
//!
//! A batch converts every workload's arrays first (with the GIL), then computes all of them
//! in one `py.detach`, then builds the results: one release of the GIL per batch, not one per
//! workload. Its results are those of the one-workload calls, in order; its errors name the
//! workload's index (`workload 3: ...`).

use numpy::{IntoPyArray, PyArray1};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyInt, PyList, PyMapping};
use replicast::sim::{
    AUTO_PEAK_REPLICAS, Fleet, Run, TARGET_UTILIZATION, Trace, TuneGrid, TuneResult,
    default_policies, oracle, simulate,
};
use replicast::{Scaler, ScalerSpec};

use crate::batch::OnError;
use crate::convert::{Role, floats, from_value, to_value, type_name};
use crate::error::{at_workload, invalid_input, to_pyerr};
use crate::{PyScalerSpec, parse_spec};

/// The oracle's fleet bound, as in the CLI.
const MAX_REPLICAS: u32 = 100_000;

fn u32_arg(name: &str, value: i64) -> PyResult<u32> {
    u32::try_from(value)
        .map_err(|_| invalid_input(format!("{name} must be in [0, {}], got {value}", u32::MAX)))
}

fn timestamps(obj: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    let data = floats(obj, "timestamps_s", &[1])?.data;
    data.iter()
        .enumerate()
        .map(|(i, &t)| {
            if t.is_finite() && t.fract() == 0.0 && t.abs() < 9.0e15 {
                Ok(t as i64)
            } else {
                Err(invalid_input(format!(
                    "timestamps_s[{i}] must be a whole number of seconds, got {t}"
                )))
            }
        })
        .collect()
}

fn policies(specs: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<(String, ScalerSpec)>>> {
    let Some(specs) = specs.filter(|s| !s.is_none()) else {
        return Ok(None);
    };
    let mapping = specs.cast::<PyMapping>().map_err(|_| {
        PyTypeError::new_err(format!(
            "specs must be a mapping of name to spec, got {}",
            type_name(specs)
        ))
    })?;
    let mut out = Vec::new();
    for item in mapping.items()?.iter() {
        let (name, spec): (String, Bound<'_, PyAny>) = item.extract()?;
        if name == "oracle" {
            return Err(invalid_input(
                "policy name 'oracle' is reserved for the oracle run",
            ));
        }
        out.push((name, parse_spec(&spec)?));
    }
    if out.is_empty() {
        return Err(invalid_input("specs must name at least one policy"));
    }
    Ok(Some(out))
}

fn check_capacity(capacity: Option<f64>) -> PyResult<Option<f64>> {
    match capacity {
        Some(c) if !(c.is_finite() && c > 0.0) => Err(invalid_input(format!(
            "capacity must be a finite number > 0, got {c}"
        ))),
        other => Ok(other),
    }
}

/// One workload's history, copied out of Python, with its capacity (None: automatic).
struct Workload {
    timestamps_s: Vec<i64>,
    values: Vec<f64>,
    capacity: Option<f64>,
}

impl Workload {
    fn new(
        timestamps_s: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        capacity: Option<f64>,
    ) -> PyResult<Self> {
        Ok(Self {
            timestamps_s: timestamps(timestamps_s)?,
            values: floats(values, "values", &[1])?.data,
            capacity: check_capacity(capacity)?,
        })
    }

    /// The checked trace and the fleet sized for it, as the CLI sizes it.
    fn fleet(
        self,
        startup_s: u32,
        interval_s: u32,
        max_replicas: u32,
    ) -> replicast::Result<(Trace, Fleet)> {
        let trace = Trace::new(self.timestamps_s, self.values)?;
        let capacity = self.capacity.unwrap_or_else(|| {
            Fleet::auto_capacity(&trace, AUTO_PEAK_REPLICAS, TARGET_UTILIZATION)
        });
        let fleet = Fleet::for_trace(&trace, capacity, startup_s, interval_s, max_replicas);
        Ok((trace, fleet))
    }
}

/// What every workload of a backtest shares: the policies (built once when given, else the
/// defaults sized for each workload's fleet), start-up and decision interval.
struct Replay {
    scalers: Option<Vec<(String, Scaler)>>,
    startup_s: u32,
    interval_s: u32,
}

/// A replayed workload: its trace's step, its fleet, and every run (the oracle last).
struct Replayed {
    step_s: i64,
    fleet: Fleet,
    runs: Vec<Run>,
}

impl Replay {
    fn new(specs: Option<&Bound<'_, PyAny>>, startup_s: i64, interval_s: i64) -> PyResult<Self> {
        let scalers = policies(specs)?
            .map(|specs| {
                specs
                    .into_iter()
                    .map(|(name, spec)| Ok((name, Scaler::new(spec)?)))
                    .collect::<replicast::Result<Vec<_>>>()
            })
            .transpose()
            .map_err(|e| to_pyerr(&e))?;
        Ok(Self {
            scalers,
            startup_s: u32_arg("startup_s", startup_s)?,
            interval_s: u32_arg("interval_s", interval_s)?,
        })
    }

    fn run(&self, workload: Workload) -> replicast::Result<Replayed> {
        let (trace, fleet) = workload.fleet(self.startup_s, self.interval_s, MAX_REPLICAS)?;
        let defaults;
        let scalers = if let Some(scalers) = &self.scalers {
            scalers
        } else {
            defaults = default_policies(&fleet, trace.step_s())?
                .into_iter()
                .map(|(name, spec)| Ok((name, Scaler::new(spec)?)))
                .collect::<replicast::Result<Vec<_>>>()?;
            &defaults
        };
        let mut runs = Vec::with_capacity(scalers.len() + 1);
        for (name, scaler) in scalers {
            runs.push(simulate(&trace, &fleet, scaler, name, &mut |_| {})?);
        }
        runs.push(oracle(&trace, &fleet)?);
        Ok(Replayed {
            step_s: trace.step_s(),
            fleet,
            runs,
        })
    }
}

fn widen(v: &[u32]) -> Vec<i64> {
    v.iter().map(|&x| i64::from(x)).collect()
}

fn to_py<'py, T: serde::Serialize>(py: Python<'py>, v: &T) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| invalid_input(e.to_string()))?;
    from_value(py, &value)
}

/// The dict `backtest` returns; without the timelines, the one `backtest_batch` returns.
fn replayed_dict(
    py: Python<'_>,
    replayed: Replayed,
    timelines: bool,
) -> PyResult<Bound<'_, PyDict>> {
    let out = fleet_dict(py, replayed.step_s, &replayed.fleet)?;
    let runs_dict = PyDict::new(py);
    for run in replayed.runs {
        let entry = PyDict::new(py);
        entry.set_item("scores", to_py(py, &run.scores)?)?;
        if timelines {
            let t = run.timeline;
            let timeline = PyDict::new(py);
            timeline.set_item("timestamps_s", t.timestamps_s.into_pyarray(py))?;
            timeline.set_item("load", t.load.into_pyarray(py))?;
            timeline.set_item("ready", widen(&t.ready).into_pyarray(py))?;
            timeline.set_item("provisioned", widen(&t.provisioned).into_pyarray(py))?;
            timeline.set_item("needed", widen(&t.needed).into_pyarray(py))?;
            entry.set_item("timeline", timeline)?;
        }
        runs_dict.set_item(run.policy, entry)?;
    }
    out.set_item("runs", runs_dict)?;
    Ok(out)
}

/// `step_s`, `capacity_per_replica` and `fleet`: what every result starts with.
fn fleet_dict<'py>(py: Python<'py>, step_s: i64, fleet: &Fleet) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("step_s", step_s)?;
    out.set_item("capacity_per_replica", fleet.capacity_per_replica)?;
    out.set_item("fleet", to_py(py, fleet)?)?;
    Ok(out)
}

/// `backtest(timestamps_s, values, *, specs=None, capacity=None, startup_s=120, interval_s=0)`.
#[pyfunction]
#[pyo3(signature = (timestamps_s, values, *, specs=None, capacity=None, startup_s=120, interval_s=0))]
pub(crate) fn backtest<'py>(
    py: Python<'py>,
    timestamps_s: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    specs: Option<&Bound<'py, PyAny>>,
    capacity: Option<f64>,
    startup_s: i64,
    interval_s: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let workload = Workload::new(timestamps_s, values, capacity)?;
    let replay = Replay::new(specs, startup_s, interval_s)?;
    let replayed = py
        .detach(|| replay.run(workload))
        .map_err(|e| to_pyerr(&e))?;
    replayed_dict(py, replayed, true)
}

/// The per-workload capacities of a batch: one for all (a number), one each (a sequence,
/// NaN for automatic), or automatic (None).
fn capacities(capacity: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Vec<Option<f64>>> {
    let Some(capacity) = capacity.filter(|c| !c.is_none()) else {
        return Ok(vec![None; n]);
    };
    if capacity.is_instance_of::<PyFloat>() || capacity.is_instance_of::<PyInt>() {
        return Ok(vec![Some(capacity.extract::<f64>()?); n]);
    }
    let each = floats(capacity, "capacity", &[0, 1])?;
    if each.shape.is_empty() {
        return Ok(vec![each.data.first().copied(); n]);
    }
    if each.data.len() != n {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "capacity must have one entry per workload ({n}), got {}",
            each.data.len()
        )));
    }
    Ok(each
        .data
        .into_iter()
        .map(|c| (!c.is_nan()).then_some(c))
        .collect())
}

/// Every workload of `traces` (a sequence of `(timestamps_s, values)` pairs), converted; a
/// workload that cannot be converted holds its error, named by its index.
fn workloads(
    py: Python<'_>,
    traces: &Bound<'_, PyAny>,
    capacity: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<Result<Workload, PyErr>>> {
    let items = crate::batch::items(traces, "traces", "(timestamps_s, values) pairs")?;
    let capacities = capacities(capacity, items.len())?;
    Ok(items
        .iter()
        .zip(capacities)
        .enumerate()
        .map(|(i, (item, capacity))| {
            let pair = item
                .extract::<(Bound<'_, PyAny>, Bound<'_, PyAny>)>()
                .map_err(|_| {
                    PyTypeError::new_err(format!(
                        "a trace must be a (timestamps_s, values) pair, got {}",
                        type_name(item)
                    ))
                });
            pair.and_then(|(ts, vs)| Workload::new(&ts, &vs, capacity))
                .map_err(|e| at_workload(py, i, &e))
        })
        .collect())
}

/// `backtest_batch(traces, *, specs=None, capacity=None, startup_s=120, interval_s=0,
/// on_error="raise")`: `backtest` of each workload without the timelines.
#[pyfunction]
#[pyo3(signature = (traces, *, specs=None, capacity=None, startup_s=120, interval_s=0, on_error="raise"))]
pub(crate) fn backtest_batch<'py>(
    py: Python<'py>,
    traces: &Bound<'py, PyAny>,
    specs: Option<&Bound<'py, PyAny>>,
    capacity: Option<&Bound<'py, PyAny>>,
    startup_s: i64,
    interval_s: i64,
    on_error: &str,
) -> PyResult<Bound<'py, PyList>> {
    let on_error = OnError::parse(on_error)?;
    let replay = Replay::new(specs, startup_s, interval_s)?;
    let workloads = workloads(py, traces, capacity)?;
    crate::batch::run(
        py,
        workloads,
        on_error,
        |w| replay.run(w),
        |r| Ok(replayed_dict(py, r, false)?.into_any()),
    )
}

/// What every workload of a search shares.
struct Search {
    slo: f64,
    grid: TuneGrid,
    held_out_pct: f64,
    startup_s: u32,
    max_replicas: u32,
}

impl Search {
    fn new(
        slo: f64,
        grid: Option<&Bound<'_, PyAny>>,
        held_out_pct: f64,
        startup_s: i64,
        max_replicas: i64,
    ) -> PyResult<Self> {
        let grid = match grid.filter(|g| !g.is_none()) {
            None => TuneGrid::default(),
            Some(g) if g.is_instance_of::<PyDict>() => {
                serde_json::from_value::<TuneGrid>(to_value(g, Role::Config)?).map_err(|e| {
                    crate::error::InvalidConfigError::new_err(format!("invalid tuning grid: {e}"))
                })?
            }
            Some(g) => {
                return Err(PyTypeError::new_err(format!(
                    "grid must be a dict of TuneGrid fields, got {}",
                    type_name(g)
                )));
            }
        };
        Ok(Self {
            slo,
            grid,
            held_out_pct,
            startup_s: u32_arg("startup_s", startup_s)?,
            max_replicas: u32_arg("max_replicas", max_replicas)?,
        })
    }

    fn run(&self, workload: Workload) -> replicast::Result<(i64, Fleet, TuneResult)> {
        let (trace, fleet) = workload.fleet(self.startup_s, 0, self.max_replicas)?;
        let result = replicast::sim::tune(
            &trace,
            &fleet,
            self.slo,
            &self.grid,
            self.held_out_pct,
            &mut |_| {},
        )?;
        Ok((trace.step_s(), fleet, result))
    }
}

/// The dict `tune` returns: the fleet, then the search's result with `spec` a `ScalerSpec`.
fn tuned_dict(
    py: Python<'_>,
    (step_s, fleet, result): (i64, Fleet, TuneResult),
) -> PyResult<Bound<'_, PyDict>> {
    let out = fleet_dict(py, step_s, &fleet)?;
    out.set_item("spec", PyScalerSpec { spec: result.spec })?;
    out.set_item("scores", to_py(py, &result.scores)?)?;
    out.set_item("tried", result.tried)?;
    out.set_item("feasible", result.feasible)?;
    out.set_item("held_out", to_py(py, &result.held_out)?)?;
    Ok(out)
}

/// `tune(timestamps_s, values, *, slo=99.9, capacity=None, startup_s=120, max_replicas=100,
/// held_out_pct=25.0, grid=None)`: `replicast tune` on one workload.
#[pyfunction]
#[pyo3(signature = (timestamps_s, values, *, slo=99.9, capacity=None, startup_s=120,
    max_replicas=100, held_out_pct=25.0, grid=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tune<'py>(
    py: Python<'py>,
    timestamps_s: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    slo: f64,
    capacity: Option<f64>,
    startup_s: i64,
    max_replicas: i64,
    held_out_pct: f64,
    grid: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let workload = Workload::new(timestamps_s, values, capacity)?;
    let search = Search::new(slo, grid, held_out_pct, startup_s, max_replicas)?;
    let tuned = py
        .detach(|| search.run(workload))
        .map_err(|e| to_pyerr(&e))?;
    tuned_dict(py, tuned)
}

/// `tune_batch(traces, *, ..., on_error="raise")`: `tune` of each workload.
#[pyfunction]
#[pyo3(signature = (traces, *, slo=99.9, capacity=None, startup_s=120, max_replicas=100,
    held_out_pct=25.0, grid=None, on_error="raise"))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn tune_batch<'py>(
    py: Python<'py>,
    traces: &Bound<'py, PyAny>,
    slo: f64,
    capacity: Option<&Bound<'py, PyAny>>,
    startup_s: i64,
    max_replicas: i64,
    held_out_pct: f64,
    grid: Option<&Bound<'py, PyAny>>,
    on_error: &str,
) -> PyResult<Bound<'py, PyList>> {
    let on_error = OnError::parse(on_error)?;
    let search = Search::new(slo, grid, held_out_pct, startup_s, max_replicas)?;
    let workloads = workloads(py, traces, capacity)?;
    crate::batch::run(
        py,
        workloads,
        on_error,
        |w| search.run(w),
        |t| Ok(tuned_dict(py, t)?.into_any()),
    )
}

/// A trace as numpy arrays: timestamps (seconds) and values.
type TraceArrays<'py> = (Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>);

/// `parse_trace(text, *, format="csv")`: a trace file's text → `(timestamps_s, values)`,
/// through the core's parsers (the CLI's `--trace` formats).
#[pyfunction]
#[pyo3(signature = (text, *, format="csv"))]
pub(crate) fn parse_trace<'py>(
    py: Python<'py>,
    text: &str,
    format: &str,
) -> PyResult<TraceArrays<'py>> {
    let parse = match format {
        "csv" => Trace::from_csv,
        "prometheus" => Trace::from_prometheus_json,
        other => {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "format must be \"csv\" or \"prometheus\", got {other:?}"
            )));
        }
    };
    let trace = py.detach(|| parse(text)).map_err(|e| to_pyerr(&e))?;
    Ok((
        trace.timestamps_s().to_vec().into_pyarray(py),
        trace.values().to_vec().into_pyarray(py),
    ))
}
