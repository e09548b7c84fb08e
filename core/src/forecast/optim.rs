//! A small deterministic Nelder–Mead minimiser with an evaluation budget (the "work budget":
//! the core reads no clock, so the cost of a fit is capped by counting objective evaluations).

/// Result of a minimisation.
#[derive(Debug, Clone)]
pub(crate) struct Minimum {
    pub(crate) x: Vec<f64>,
    pub(crate) f: f64,
    pub(crate) evals: usize,
}

/// Minimises `f` from `x0` with initial simplex steps `step`, stopping when the simplex's
/// function values agree within `ftol` (absolute + relative) or after `max_evals` evaluations.
/// Non-finite objective values are treated as `+inf` (the simplex moves away from them).
/// The budget is hard: once it is spent, the points an iteration still asks for count as `+inf`
/// without an evaluation (they are never chosen), so `evals <= max(max_evals, n + 1)` (the
/// first simplex is always evaluated) and the result is an evaluated point.
pub(crate) fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    ftol: f64,
    max_evals: usize,
) -> Minimum {
    let n = x0.len();
    let mut evals = 0;
    let mut eval = |x: &[f64], evals: &mut usize| {
        if *evals >= max_evals.max(n + 1) {
            return f64::INFINITY;
        }
        *evals += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    let mut simplex: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    simplex.push(x0.to_vec());
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] += step;
        simplex.push(x);
    }
    let mut fv: Vec<f64> = simplex.iter().map(|x| eval(x, &mut evals)).collect();
    let mut centroid = vec![0.0; n];
    let mut trial = vec![0.0; n];
    let mut trial2 = vec![0.0; n];
    while evals < max_evals {
        // Order: best first (stable sort on index keeps ties deterministic).
        let mut idx: Vec<usize> = (0..=n).collect();
        idx.sort_by(|&a, &b| fv[a].total_cmp(&fv[b]));
        simplex = idx.iter().map(|&i| simplex[i].clone()).collect();
        fv = idx.iter().map(|&i| fv[i]).collect();
        let (best, worst) = (fv[0], fv[n]);
        if worst.is_finite() && (worst - best).abs() <= ftol * (1.0 + best.abs()) {
            break;
        }
        centroid.fill(0.0);
        for x in &simplex[..n] {
            for (c, v) in centroid.iter_mut().zip(x) {
                *c += v / n as f64;
            }
        }
        let lerp = |out: &mut Vec<f64>, t: f64, simplex: &[Vec<f64>], centroid: &[f64]| {
            for ((o, c), w) in out.iter_mut().zip(centroid).zip(&simplex[n]) {
                *o = c + t * (w - c);
            }
        };
        lerp(&mut trial, -1.0, &simplex, &centroid);
        let fr = eval(&trial, &mut evals);
        if fr < fv[0] {
            lerp(&mut trial2, -2.0, &simplex, &centroid);
            let fe = eval(&trial2, &mut evals);
            if fe < fr {
                simplex[n].clone_from(&trial2);
                fv[n] = fe;
            } else {
                simplex[n].clone_from(&trial);
                fv[n] = fr;
            }
        } else if fr < fv[n - 1] {
            simplex[n].clone_from(&trial);
            fv[n] = fr;
        } else {
            let t = if fr < fv[n] { -0.5 } else { 0.5 };
            lerp(&mut trial2, t, &simplex, &centroid);
            let fc = eval(&trial2, &mut evals);
            if fc < fv[n].min(fr) {
                simplex[n].clone_from(&trial2);
                fv[n] = fc;
            } else {
                // Shrink towards the best vertex.
                for i in 1..=n {
                    let best = simplex[0].clone();
                    for (v, b) in simplex[i].iter_mut().zip(&best) {
                        *v = b + 0.5 * (*v - b);
                    }
                    fv[i] = eval(&simplex[i], &mut evals);
                }
            }
        }
    }
    let (i, f) =
        fv.iter().enumerate().fold(
            (0, f64::INFINITY),
            |acc, (i, &v)| if v < acc.1 { (i, v) } else { acc },
        );
    Minimum {
        x: simplex[i].clone(),
        f,
        evals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rosenbrock_minimum() {
        // Reference: analytic minimum of Rosenbrock at (1, 1); tolerance 1e-3.
        let m = nelder_mead(
            |x| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2),
            &[-1.2, 1.0],
            0.5,
            1e-14,
            5000,
        );
        assert!(
            (m.x[0] - 1.0).abs() < 1e-3 && (m.x[1] - 1.0).abs() < 1e-3,
            "{m:?}"
        );
    }

    #[test]
    fn respects_budget() {
        for budget in 2..40 {
            let mut calls = 0;
            let m = nelder_mead(
                |x| {
                    calls += 1;
                    (x[0] - 1.0).powi(2) + (x[1] + 2.0).powi(2) + x[0] * x[1]
                },
                &[3.0, 3.0],
                1.0,
                0.0,
                budget,
            );
            // the first simplex (3 points) always; never more than the budget otherwise
            assert_eq!(m.evals, calls);
            assert!(calls <= budget.max(3), "{budget}: {calls}");
            assert!(m.f.is_finite());
        }
    }
}
