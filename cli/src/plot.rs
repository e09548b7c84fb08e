//! The backtest chart: demand and ready replicas per policy over the whole trace, and a zoom on
//! the hardest stretch (the window around the largest rise in load).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};
use replicast::sim::{Fleet, Run};

/// The font every label is drawn with (DejaVu Sans, licence beside it in `assets/`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
];

/// Writes the chart to `path` (PNG, or SVG when the name ends in `.svg`).
pub(crate) fn draw(
    path: &Path,
    trace_name: &str,
    fleet: &Fleet,
    runs: &[Run],
) -> Result<(), String> {
    register_font("sans-serif", FontStyle::Normal, FONT)
        .map_err(|_| "cannot load the embedded chart font".to_owned())?;
    let size = (1400, 1000);
    let result = if path.extension().is_some_and(|e| e == "svg") {
        let root = SVGBackend::new(path, size).into_drawing_area();
        render(&root, trace_name, fleet, runs)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    } else {
        let root = BitMapBackend::new(path, size).into_drawing_area();
        render(&root, trace_name, fleet, runs)
            .and_then(|()| root.present().map_err(|e| e.to_string()))
    };
    result.map_err(|e| format!("cannot draw {}: {e}", path.display()))
}

/// The window (in steps) around the largest rise in load over one hour.
fn hardest_stretch(load: &[f64], step_s: i64) -> (usize, usize) {
    let hour = usize::try_from(3600 / step_s.max(1)).unwrap_or(1).max(1);
    let n = load.len();
    let mut best = (0usize, f64::MIN);
    for k in hour..n {
        let rise = load[k] - load[k - hour];
        if rise > best.1 {
            best = (k, rise);
        }
    }
    let span = hour * 6;
    let start = best.0.saturating_sub(span / 2);
    (start, (start + span).min(n))
}

fn render<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    trace_name: &str,
    fleet: &Fleet,
    runs: &[Run],
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (top, bottom) = root.split_vertically(560);
    let Some(first) = runs.first() else {
        return Ok(());
    };
    let t0 = first.timeline.timestamps_s.first().copied().unwrap_or(0);
    let step_s = first.timeline.timestamps_s.get(1).map_or(60, |t| t - t0);
    let n = first.timeline.load.len();
    panel(
        &top,
        &format!("{trace_name}: demand and ready replicas"),
        fleet,
        runs,
        (0, n),
        (t0, step_s),
    )?;
    let (from, to) = hardest_stretch(&first.timeline.load, step_s);
    panel(
        &bottom,
        "zoom: the hardest six hours (largest one-hour rise in load)",
        fleet,
        runs,
        (from, to),
        (t0, step_s),
    )
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    fleet: &Fleet,
    runs: &[Run],
    (from, to): (usize, usize),
    (t0, step_s): (i64, i64),
) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let Some(first) = runs.first() else {
        return Ok(());
    };
    // a long panel shows the maximum of each bucket of steps: one point per pixel or so
    let bucket = ((to - from) / 1200).max(1);
    let width = if bucket > 1 { 1 } else { 2 };
    let hours = |k: usize| (first.timeline.timestamps_s[k] - t0) as f64 / 3600.0;
    let demand: Vec<f64> = first.timeline.load[from..to]
        .iter()
        .map(|l| l / fleet.capacity_per_replica)
        .collect();
    let y_max = runs
        .iter()
        .flat_map(|r| r.timeline.ready[from..to].iter().map(|v| f64::from(*v)))
        .chain(demand.iter().copied())
        .fold(1.0, f64::max)
        * 1.1;
    let x_range = hours(from)..hours(to.saturating_sub(1).max(from));
    let mut chart = ChartBuilder::on(area)
        .caption(
            if bucket > 1 {
                format!("{title} (maximum per {} min)", bucket as i64 * step_s / 60)
            } else {
                title.to_owned()
            },
            ("sans-serif", 22),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_range, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("hours since the start of the trace")
        .y_desc("replicas")
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let series = |values: &dyn Fn(usize) -> f64| -> Vec<(f64, f64)> {
        (from..to)
            .step_by(bucket)
            .map(|k| {
                let end = (k + bucket).min(to);
                (hours(k), (k..end).map(values).fold(f64::MIN, f64::max))
            })
            .collect()
    };
    chart
        .draw_series(LineSeries::new(
            series(&|k| demand[k - from]),
            BLACK.mix(0.6).stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label("demand (load / capacity)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    for (i, run) in runs.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(
                series(&|k| f64::from(run.timeline.ready[k])),
                color.stroke_width(width),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("{} ready", run.policy))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())
}
