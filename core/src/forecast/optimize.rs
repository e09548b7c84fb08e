//! A small deterministic Nelder–Mead minimiser on the unit cube, with a cap on evaluations
//! (the core has no clock, so a refit's time budget is a work budget).

/// Minimises `f` over `[0, 1]^n` (points are clamped into the cube) from `start`, with at most
/// `max_evals` evaluations. Returns the best point and its value.
pub(crate) fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    max_evals: usize,
) -> (Vec<f64>, f64) {
    let n = start.len();
    let clamp = |x: &mut Vec<f64>| {
        for v in x.iter_mut() {
            *v = v.clamp(0.0, 1.0);
        }
    };
    let mut evals = 0usize;
    let mut eval = |x: &[f64], evals: &mut usize| {
        *evals += 1;
        let v = f(x);
        if v.is_nan() { f64::INFINITY } else { v }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let mut x0 = start.to_vec();
    clamp(&mut x0);
    let v0 = eval(&x0, &mut evals);
    simplex.push((x0.clone(), v0));
    for i in 0..n {
        let mut x = x0.clone();
        x[i] = if x[i] + step <= 1.0 {
            x[i] + step
        } else {
            x[i] - step
        };
        clamp(&mut x);
        let v = eval(&x, &mut evals);
        simplex.push((x, v));
    }
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = simplex[0].1;
        let worst = simplex[n].1;
        if (worst - best).abs() <= 1e-10 * (best.abs() + 1e-12) {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            let mut x: Vec<f64> = (0..n)
                .map(|j| centroid[j] + t * (simplex[n].0[j] - centroid[j]))
                .collect();
            clamp(&mut x);
            x
        };
        let reflected = along(-1.0);
        let vr = eval(&reflected, &mut evals);
        if vr < simplex[0].1 {
            let expanded = along(-2.0);
            let ve = eval(&expanded, &mut evals);
            simplex[n] = if ve < vr {
                (expanded, ve)
            } else {
                (reflected, vr)
            };
        } else if vr < simplex[n - 1].1 {
            simplex[n] = (reflected, vr);
        } else {
            let contracted = along(0.5);
            let vc = eval(&contracted, &mut evals);
            if vc < worst {
                simplex[n] = (contracted, vc);
            } else {
                let best_x = simplex[0].0.clone();
                for item in simplex.iter_mut().skip(1) {
                    let mut x: Vec<f64> = item
                        .0
                        .iter()
                        .zip(&best_x)
                        .map(|(a, b)| b + 0.5 * (a - b))
                        .collect();
                    clamp(&mut x);
                    let v = eval(&x, &mut evals);
                    *item = (x, v);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, v) = simplex.swap_remove(0);
    (x, v)
}

#[cfg(test)]
mod tests {
    use super::nelder_mead;

    #[test]
    fn finds_the_minimum_of_a_bowl() {
        let (x, v) = nelder_mead(
            &mut |x| (x[0] - 0.3).powi(2) + (x[1] - 0.7).powi(2),
            &[0.5, 0.5],
            0.2,
            500,
        );
        assert!(
            (x[0] - 0.3).abs() < 1e-3 && (x[1] - 0.7).abs() < 1e-3,
            "{x:?}"
        );
        assert!(v < 1e-6);
    }
}
