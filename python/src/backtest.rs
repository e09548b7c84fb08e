//! `backtest`: replay a load trace through policies and the oracle, with the GIL released.

use numpy::IntoPyArray;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping};
use replicast::sim::{
    AUTO_PEAK_REPLICAS, Fleet, Run, TARGET_UTILIZATION, Trace, default_policies, oracle, simulate,
};
use replicast::{Scaler, ScalerSpec};

use crate::convert::{floats, from_value, type_name};
use crate::error::{invalid_input, to_pyerr};
use crate::parse_spec;

/// The oracle's fleet bound, as in the CLI.
const MAX_REPLICAS: u32 = 100_000;

fn seconds_arg(name: &str, value: i64) -> PyResult<u32> {
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

fn replay(
    timestamps_s: Vec<i64>,
    values: Vec<f64>,
    specs: Option<Vec<(String, ScalerSpec)>>,
    capacity: Option<f64>,
    startup_s: u32,
    interval_s: u32,
) -> replicast::Result<(Trace, Fleet, Vec<Run>)> {
    let trace = Trace::new(timestamps_s, values)?;
    let capacity = capacity
        .unwrap_or_else(|| Fleet::auto_capacity(&trace, AUTO_PEAK_REPLICAS, TARGET_UTILIZATION));
    let fleet = Fleet::for_trace(&trace, capacity, startup_s, interval_s, MAX_REPLICAS);
    let specs = match specs {
        Some(specs) => specs,
        None => default_policies(&fleet, trace.step_s())?,
    };
    let mut runs = Vec::with_capacity(specs.len() + 1);
    for (name, spec) in specs {
        let scaler = Scaler::new(spec)?;
        runs.push(simulate(&trace, &fleet, &scaler, &name, &mut |_| {})?);
    }
    runs.push(oracle(&trace, &fleet)?);
    Ok((trace, fleet, runs))
}

fn widen(v: &[u32]) -> Vec<i64> {
    v.iter().map(|&x| i64::from(x)).collect()
}

/// `backtest(timestamps_s, values, *, specs=None, capacity=None, startup_s=120, interval_s=0)`.
#[pyfunction]
#[pyo3(signature = (timestamps_s, values, *, specs=None, capacity=None, startup_s=120, interval_s=0))]
#[allow(clippy::needless_pass_by_value)]
pub(crate) fn backtest<'py>(
    py: Python<'py>,
    timestamps_s: &Bound<'py, PyAny>,
    values: &Bound<'py, PyAny>,
    specs: Option<&Bound<'py, PyAny>>,
    capacity: Option<f64>,
    startup_s: i64,
    interval_s: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let ts = timestamps(timestamps_s)?;
    let vs = floats(values, "values", &[1])?.data;
    let specs = policies(specs)?;
    let startup_s = seconds_arg("startup_s", startup_s)?;
    let interval_s = seconds_arg("interval_s", interval_s)?;
    if let Some(c) = capacity
        && !(c.is_finite() && c > 0.0)
    {
        return Err(invalid_input(format!(
            "capacity must be a finite number > 0, got {c}"
        )));
    }
    let (trace, fleet, runs) = py
        .detach(|| replay(ts, vs, specs, capacity, startup_s, interval_s))
        .map_err(|e| to_pyerr(&e))?;

    let out = PyDict::new(py);
    out.set_item("step_s", trace.step_s())?;
    out.set_item("capacity_per_replica", fleet.capacity_per_replica)?;
    let fleet_value = serde_json::to_value(&fleet).map_err(|e| invalid_input(e.to_string()))?;
    out.set_item("fleet", from_value(py, &fleet_value)?)?;
    let runs_dict = PyDict::new(py);
    for run in runs {
        let scores = serde_json::to_value(&run.scores).map_err(|e| invalid_input(e.to_string()))?;
        let t = run.timeline;
        let timeline = PyDict::new(py);
        timeline.set_item("timestamps_s", t.timestamps_s.into_pyarray(py))?;
        timeline.set_item("load", t.load.into_pyarray(py))?;
        timeline.set_item("ready", widen(&t.ready).into_pyarray(py))?;
        timeline.set_item("provisioned", widen(&t.provisioned).into_pyarray(py))?;
        timeline.set_item("needed", widen(&t.needed).into_pyarray(py))?;
        let entry = PyDict::new(py);
        entry.set_item("scores", from_value(py, &scores)?)?;
        entry.set_item("timeline", timeline)?;
        runs_dict.set_item(run.policy, entry)?;
    }
    out.set_item("runs", runs_dict)?;
    Ok(out)
}
