//! The HTML report's charts, drawn by plotters' SVG backend into strings that the page inlines
//! (no image files, no script, no network). Text is SVG `<text>`: the browser sets it in its
//! own fonts, Chinese class names included.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::io;

/// Colours of the series, in order (the last one for the rest).
const SERIES: [RGBColor; 9] = [
    RGBColor(200, 40, 40),
    RGBColor(230, 130, 20),
    RGBColor(40, 110, 190),
    RGBColor(120, 70, 170),
    RGBColor(30, 150, 110),
    RGBColor(200, 60, 140),
    RGBColor(110, 110, 30),
    RGBColor(40, 160, 200),
    RGBColor(150, 150, 150),
];

/// The colour of series `i`.
pub(crate) fn series_colour(i: usize) -> RGBColor {
    SERIES.get(i).copied().unwrap_or(RGBColor(150, 150, 150))
}

fn drawing_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing a chart: {e}"))
}

/// The label of a segment: its entry in `labels` at its centre, nothing at its edges.
fn segment_label(v: &SegmentValue<i32>, labels: &[String]) -> String {
    match v {
        SegmentValue::CenterOf(i) => usize::try_from(*i)
            .ok()
            .and_then(|i| labels.get(i))
            .cloned()
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// An SVG of `size` pixels on white, drawn by `draw`.
fn svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> io::Result<()>,
) -> io::Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        draw(&root)?;
        root.present().map_err(drawing_error)?;
    }
    Ok(out)
}

fn count_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Registered MCC (rows) against the MCC a request carried on the wire (columns).
#[derive(Debug, Default)]
pub(crate) struct Matrix {
    /// Row labels, top to bottom.
    pub rows: Vec<String>,
    /// Column labels, left to right.
    pub columns: Vec<String>,
    /// (row, column, requests, whether the column is the row's own MCC).
    pub cells: Vec<(usize, usize, usize, bool)>,
}

/// The matrix as a heat map: the row's own MCC in blue, any other in red, darker for more.
pub(crate) fn matrix_svg(m: &Matrix) -> io::Result<String> {
    let (rows, columns) = (m.rows.len().max(1), m.columns.len().max(1));
    let width = 260 + 96 * u32::try_from(columns.min(40)).unwrap_or(40);
    let height = 120 + 34 * u32::try_from(rows.min(60)).unwrap_or(60);
    let most = m.cells.iter().map(|c| c.2).max().unwrap_or(1).max(1);
    svg((width, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(200)
            .build_cartesian_2d(
                (0..count_i32(columns)).into_segmented(),
                (0..count_i32(rows)).into_segmented(),
            )
            .map_err(drawing_error)?;
        // Row 0 at the top.
        let flipped: Vec<String> = m.rows.iter().rev().cloned().collect();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(columns)
            .y_labels(rows)
            .x_label_formatter(&|v| segment_label(v, &m.columns))
            .y_label_formatter(&|v| segment_label(v, &flipped))
            .x_desc("MCC on the wire (fee class before 2016)")
            .y_desc("registered MCC")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(drawing_error)?;
        let y = |r: usize| count_i32(rows.saturating_sub(r + 1));
        chart
            .draw_series(m.cells.iter().map(|&(r, c, n, own)| {
                let t = n as f64 / most as f64;
                let shade =
                    |full: u8| (255.0 - (255.0 - f64::from(full)) * (0.25 + 0.75 * t)) as u8;
                let colour = if own {
                    RGBColor(shade(60), shade(110), shade(200))
                } else {
                    RGBColor(shade(200), shade(30), shade(30))
                };
                let (x, yr) = (count_i32(c), y(r));
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(x), SegmentValue::Exact(yr)),
                        (SegmentValue::Exact(x + 1), SegmentValue::Exact(yr + 1)),
                    ],
                    colour.filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                cell
            }))
            .map_err(drawing_error)?;
        let centred = ("sans-serif", 14)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .draw_series(m.cells.iter().map(|&(r, c, n, _)| {
                Text::new(
                    n.to_string(),
                    (
                        SegmentValue::CenterOf(count_i32(c)),
                        SegmentValue::CenterOf(y(r)),
                    ),
                    centred.clone(),
                )
            }))
            .map_err(drawing_error)?;
        Ok(())
    })
}

/// Counts a time bucket, one series a rule, stacked.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    /// What the horizontal axis counts (`capture time (UTC)`, `message index`).
    pub axis: String,
    /// A label a bucket.
    pub buckets: Vec<String>,
    /// (rule, count a bucket), largest first.
    pub series: Vec<(String, Vec<usize>)>,
}

/// The timeline as stacked bars, with a legend.
pub(crate) fn timeline_svg(t: &Timeline) -> io::Result<String> {
    let buckets = t.buckets.len().max(1);
    let tallest = (0..buckets)
        .map(|b| {
            t.series
                .iter()
                .map(|(_, counts)| counts.get(b).copied().unwrap_or(0))
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
        .max(1);
    svg((960, 360), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(
                (0..count_i32(buckets)).into_segmented(),
                0..count_i32(tallest + tallest / 5 + 1),
            )
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(buckets.min(8))
            .x_label_formatter(&|v| segment_label(v, &t.buckets))
            .x_desc(t.axis.as_str())
            .y_desc("findings")
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(drawing_error)?;
        let mut below = vec![0usize; buckets];
        for (i, (rule, counts)) in t.series.iter().enumerate() {
            let colour = series_colour(i);
            let bars: Vec<Rectangle<(SegmentValue<i32>, i32)>> = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(b, n)| {
                    let base = below.get(b).copied().unwrap_or(0);
                    if let Some(slot) = below.get_mut(b) {
                        *slot += n;
                    }
                    let x = count_i32(b);
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(x), count_i32(base)),
                            (SegmentValue::Exact(x + 1), count_i32(base + n)),
                        ],
                        colour.filled(),
                    );
                    bar.set_margin(0, 0, 1, 1);
                    bar
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(drawing_error)?
                .label(rule.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(drawing_error)?;
        Ok(())
    })
}

/// Horizontal bars: (label, count), top to bottom.
pub(crate) fn bars_svg(items: &[(String, usize)], axis: &str) -> io::Result<String> {
    let n = items.len().max(1);
    let most = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let labels: Vec<String> = items.iter().rev().map(|i| i.0.clone()).collect();
    let height = 90 + 26 * u32::try_from(n.min(60)).unwrap_or(60);
    svg((720, height), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(130)
            .build_cartesian_2d(
                0..count_i32(most + most / 5 + 1),
                (0..count_i32(n)).into_segmented(),
            )
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| segment_label(v, &labels))
            .x_desc(axis)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(drawing_error)?;
        chart
            .draw_series(items.iter().enumerate().map(|(i, (_, count))| {
                let y = count_i32(n.saturating_sub(i + 1));
                let mut bar = Rectangle::new(
                    [
                        (0, SegmentValue::Exact(y)),
                        (count_i32(*count), SegmentValue::Exact(y + 1)),
                    ],
                    series_colour(1).filled(),
                );
                bar.set_margin(3, 3, 0, 0);
                bar
            }))
            .map_err(drawing_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_labels_and_survive_no_data() {
        let m = Matrix {
            rows: vec!["5812 餐娱类".into()],
            columns: vec!["5812 餐娱类".into(), "5411 民生类".into()],
            cells: vec![(0, 0, 37, true), (0, 1, 3, false)],
        };
        let svg = matrix_svg(&m).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        for text in [
            "5812 餐娱类",
            "5411 民生类",
            "\n37\n</text>",
            "\n3\n</text>",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
        let t = Timeline {
            axis: "capture time (UTC)".into(),
            buckets: vec!["02:00".into(), "02:05".into()],
            series: vec![
                ("mcc-mismatch".into(), vec![2, 0]),
                ("no-response".into(), vec![1, 4]),
            ],
        };
        let svg = timeline_svg(&t).unwrap();
        assert!(svg.contains("mcc-mismatch") && svg.contains("no-response"));
        let svg = bars_svg(&[("P0000088".into(), 3)], "findings").unwrap();
        assert!(svg.contains("P0000088"));
        // Nothing to draw is an empty chart, not a failure.
        assert!(matrix_svg(&Matrix::default()).unwrap().starts_with("<svg"));
        assert!(
            timeline_svg(&Timeline::default())
                .unwrap()
                .starts_with("<svg")
        );
        assert!(bars_svg(&[], "findings").unwrap().starts_with("<svg"));
    }
}
