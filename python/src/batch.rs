//! The batch calls' shared loop: convert every workload first (with the GIL), compute them all
//! in one `py.detach`, then build the results in order.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use crate::convert::type_name;
use crate::error::{at_workload, to_pyerr};

/// The items of the batch argument `name`, a sequence of `what` (not a str or a dict, whose
/// iteration would silently give characters or keys).
pub(crate) fn items<'py>(
    obj: &Bound<'py, PyAny>,
    name: &str,
    what: &str,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyDict>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a sequence of {what}, got {}",
            type_name(obj)
        )));
    }
    obj.try_iter()?.collect()
}

/// How a batch call treats a workload that fails: `"raise"` the first failure, or `"return"`
/// the exception in the workload's place and go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnError {
    /// Raise the first failure (by workload index).
    Raise,
    /// Put each failure's exception in the workload's place.
    Return,
}

impl OnError {
    /// Parses the `on_error` argument.
    pub(crate) fn parse(text: &str) -> Result<Self, PyErr> {
        match text {
            "raise" => Ok(Self::Raise),
            "return" => Ok(Self::Return),
            other => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "on_error must be \"raise\" or \"return\", got {other:?}"
            ))),
        }
    }
}

/// Runs `compute` on every converted workload (`Err`: it could not be converted, its error
/// already naming it) with the GIL released once, then builds each
/// result with `build`; failures are raised (the first, by index) or returned in place.
pub(crate) fn run<'py, W: Send, T: Send>(
    py: Python<'py>,
    workloads: Vec<Result<W, PyErr>>,
    on_error: OnError,
    compute: impl Fn(W) -> replicast::Result<T> + Sync,
    build: impl Fn(T) -> PyResult<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let raise = on_error == OnError::Raise;
    if raise && let Some(Err(e)) = workloads.iter().find(|w| w.is_err()) {
        // a conversion error is known before any computation: raise it at once
        return Err(e.clone_ref(py));
    }
    let outputs: Vec<Result<replicast::Result<T>, PyErr>> = py.detach(|| {
        let mut outputs = Vec::with_capacity(workloads.len());
        for workload in workloads {
            let output = workload.map(&compute);
            let failed = matches!(output, Ok(Err(_)));
            outputs.push(output);
            if raise && failed {
                break;
            }
        }
        outputs
    });
    let list = PyList::empty(py);
    for (i, output) in outputs.into_iter().enumerate() {
        let item = match output {
            Ok(Ok(value)) => build(value)?,
            Ok(Err(e)) if raise => return Err(at_workload(py, i, &to_pyerr(&e))),
            Ok(Err(e)) => at_workload(py, i, &to_pyerr(&e))
                .into_value(py)
                .into_any()
                .into_bound(py),
            Err(e) => e.into_value(py).into_any().into_bound(py),
        };
        list.append(item)?;
    }
    Ok(list)
}
