//! Python objects ↔ JSON values, and array-likes → owned `f64` buffers.

use numpy::{PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// What a converted value is: decides the error a NaN or infinity raises.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Role {
    /// An observation: `InvalidInputError`.
    Input,
    /// A spec: `InvalidConfigError`.
    Config,
}

/// Converts plain Python data (dict, list, tuple, str, int, float, bool, None; numpy scalars
/// through `__index__` / `__float__`) into a JSON value.
pub(crate) fn to_value(obj: &Bound<'_, PyAny>, role: Role) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!("mapping keys must be str, got {}", type_name(&k)))
            })?;
            map.insert(key.to_str()?.to_owned(), to_value(&v, role)?);
        }
        return Ok(Value::Object(map));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return l.iter().map(|v| to_value(&v, role)).collect();
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return t.iter().map(|v| to_value(&v, role)).collect();
    }
    // a plain float first: `hasattr("__index__")` on it would raise and swallow an
    // AttributeError, the most expensive step of converting a metric dict
    if obj.is_exact_instance_of::<PyFloat>() {
        return finite(obj.extract()?, role);
    }
    if (obj.is_instance_of::<PyInt>() || obj.hasattr("__index__")?)
        && let Ok(i) = obj.extract::<i64>()
    {
        return Ok(Value::Number(i.into()));
    }
    if obj.is_instance_of::<PyFloat>() || obj.hasattr("__float__")? {
        return finite(obj.extract()?, role);
    }
    Err(PyTypeError::new_err(format!(
        "expected plain data (dict, list, str, int, float, bool or None), got {}",
        type_name(obj)
    )))
}

fn finite(f: f64, role: Role) -> PyResult<Value> {
    Number::from_f64(f).map(Value::Number).ok_or_else(|| {
        let message = format!("values must be finite numbers, got {f}");
        match role {
            Role::Input => crate::error::InvalidInputError::new_err(message),
            Role::Config => crate::error::InvalidConfigError::new_err(message),
        }
    })
}

/// Converts a JSON value into plain Python data.
pub(crate) fn from_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_value(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".to_owned(), |n| n.to_string())
}

/// An array-like converted once to contiguous float64 and copied into Rust: the data and
/// its shape.
#[derive(Debug)]
pub(crate) struct Floats {
    pub(crate) data: Vec<f64>,
    pub(crate) shape: Vec<usize>,
}

/// Converts any numeric array-like of one of the accepted dimensionalities.
///
/// Wrong dimensionality → `ValueError`; a non-numeric dtype (strings, objects, complex,
/// datetimes) → `TypeError`. The buffer is copied, so the caller may release the GIL while
/// another thread writes the original array.
pub(crate) fn floats(obj: &Bound<'_, PyAny>, name: &str, ndims: &[usize]) -> PyResult<Floats> {
    let py = obj.py();
    let np = py.import("numpy")?;
    let array = if obj.is_instance_of::<PyArrayDyn<f64>>() {
        obj.clone()
    } else {
        np.call_method1("asarray", (obj,)).map_err(|e| {
            PyTypeError::new_err(format!(
                "{name} must be a numeric array-like, got {}: {e}",
                type_name(obj)
            ))
        })?
    };
    let dtype = array.getattr("dtype")?;
    let kind: String = dtype.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "b" | "i" | "u" | "f") {
        return Err(PyTypeError::new_err(format!(
            "{name} must be numeric (bool, int or float), got dtype {}",
            dtype.str()?
        )));
    }
    let ndim: usize = array.getattr("ndim")?.extract()?;
    if !ndims.contains(&ndim) {
        let allowed: Vec<String> = ndims.iter().map(|d| format!("{d}-D")).collect();
        return Err(PyValueError::new_err(format!(
            "{name} must be {}, got a {ndim}-D array",
            allowed.join(" or ")
        )));
    }
    let contiguous = np.call_method1("ascontiguousarray", (array, np.getattr("float64")?))?;
    let typed = contiguous.cast::<PyArrayDyn<f64>>()?;
    let readonly = typed.readonly();
    let shape = readonly.shape().to_vec();
    let data = readonly
        .as_slice()
        .map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?
        .to_vec();
    Ok(Floats { data, shape })
}
