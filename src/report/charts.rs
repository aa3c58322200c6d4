//! Charts of the HTML report as inline SVG, drawn with plotters: bars of counts, stacked bars,
//! and the histogram of total scores with the band edges.

use plotters::coord::ranged1d::SegmentedCoord;
use plotters::coord::types::{RangedCoordu32, RangedCoordu64};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};

fn draw_err(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("drawing a chart: {e}"))
}

/// The grade colours, highest risk first.
pub fn grade_colour(i: usize, n: usize) -> RGBColor {
    const PALETTE: [RGBColor; 6] = [
        RGBColor(192, 57, 43),
        RGBColor(230, 126, 34),
        RGBColor(241, 196, 15),
        RGBColor(39, 174, 96),
        RGBColor(41, 128, 185),
        RGBColor(127, 140, 141),
    ];
    if n <= 3 && i == n - 1 {
        return PALETTE[3];
    }
    PALETTE[i.min(PALETTE.len() - 1)]
}

/// `label` cut to `max` characters, the last an ellipsis, when longer.
fn shorten(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        return label.to_string();
    }
    let mut out: String = label.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A chart with one segment per label along x and counts along y.
type Segmented<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<SegmentedCoord<RangedCoordu32>, RangedCoordu64>>;

/// A chart of one segment per label along x (each labelled under its centre) and counts from 0
/// to a tenth above `top` along y, its mesh drawn.
fn segmented<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, Shift>,
    title: &str,
    labels: &[String],
    top: u64,
) -> Result<Segmented<'a, 'b>> {
    let n = labels.len().max(1) as u32;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0u32..n).into_segmented(), 0u64..top + top / 10 + 1)
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(labels.len().max(1)) // plotters loops forever on 0 labels
        .x_label_formatter(&|x| match x {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()
        .map_err(draw_err)?;
    Ok(chart)
}

/// A bar chart of `values` labelled `labels`, each bar coloured by `colour`.
pub fn bars(
    title: &str,
    labels: &[String],
    values: &[u64],
    colour: impl Fn(usize) -> RGBColor,
) -> Result<String> {
    let mut svg = String::new();
    // Room for the longest label under each bar (about 7 px a character at 12 px), within
    // the page; labels that still do not fit are shortened (the tables carry them whole).
    let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let per_bar = (7 * longest + 14).max(70);
    let width = (120 + per_bar * labels.len()).clamp(420, 1240);
    let fit = ((width - 120) / labels.len().max(1)).saturating_sub(14) / 7;
    let labels: Vec<String> = labels.iter().map(|l| shorten(l, fit.max(3))).collect();
    let labels = &labels;
    {
        let width = width as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let top = values.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = segmented(&root, title, labels, top)?;
        chart
            .draw_series(values.iter().enumerate().map(|(i, v)| {
                let i = i as u32;
                Rectangle::new(
                    [
                        (SegmentValue::Exact(i), 0),
                        (SegmentValue::Exact(i + 1), *v),
                    ],
                    colour(i as usize).filled(),
                )
            }))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// Stacked bars: one bar per key, one layer per grade (`counts[key][grade]`).
pub fn stacked(
    title: &str,
    keys: &[String],
    grades: &[String],
    counts: &[Vec<u64>],
) -> Result<String> {
    let mut svg = String::new();
    {
        let width = (140 + 40 * keys.len()).clamp(480, 1200) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 320)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let top = counts
            .iter()
            .map(|c| c.iter().sum::<u64>())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = segmented(&root, title, keys, top)?;
        for (g, name) in grades.iter().enumerate() {
            let colour = grade_colour(g, grades.len());
            chart
                .draw_series(counts.iter().enumerate().map(|(k, c)| {
                    let below: u64 = c[..g].iter().sum();
                    let k = k as u32;
                    Rectangle::new(
                        [
                            (SegmentValue::Exact(k), below),
                            (SegmentValue::Exact(k + 1), below + c[g]),
                        ],
                        colour.filled(),
                    )
                }))
                .map_err(draw_err)?
                .label(name.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

/// The histogram of total scores (one bar per point, 0–100) with the band edges drawn.
pub fn histogram(counts: &[u64], edges: &[(f64, String)]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "Customers by adjusted total score, with the band edges",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..100f64, 0u64..top + top / 10 + 1)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_desc("total score")
            .y_desc("customers")
            .draw()
            .map_err(draw_err)?;
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, v)| **v > 0)
                    .map(|(i, v)| {
                        Rectangle::new(
                            [(i as f64, 0), (i as f64 + 0.9, *v)],
                            RGBColor(52, 73, 94).filled(),
                        )
                    }),
            )
            .map_err(draw_err)?;
        for (x, name) in edges {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*x, 0), (*x, top)],
                    RED.stroke_width(2),
                )))
                .map_err(draw_err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    name.clone(),
                    (*x + 0.5, top),
                    ("sans-serif", 12).into_font().color(&RED),
                )))
                .map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_shortened_to_their_room() {
        assert_eq!(shorten("xh6_criminal_record", 8), "xh6_cri…");
        assert_eq!(shorten("xh1", 8), "xh1");
        let labels: Vec<String> = (0..12)
            .map(|i| format!("override_disagreement_{i}"))
            .collect();
        let svg = bars("t", &labels, &[1; 12], |_| RGBColor(0, 0, 0)).unwrap();
        assert!(
            svg.contains('…'),
            "12 long labels cannot fit 1,240 px whole"
        );
        let few: Vec<String> = vec!["xh6_criminal_record".into(), "several_conditions".into()];
        let svg = bars("t", &few, &[1, 2], |_| RGBColor(0, 0, 0)).unwrap();
        assert!(svg.contains("xh6_criminal_record") && svg.contains("several_conditions"));
    }

    #[test]
    fn bars_degenerate_inputs_terminate() {
        for (labels, values) in [
            (vec![], vec![]),
            (vec!["a".to_string()], vec![0]),
            (vec!["a".to_string()], vec![1]),
            (vec!["a".to_string(), "b".to_string()], vec![0, 0]),
        ] {
            let svg = bars("t", &labels, &values, |_| RED).unwrap();
            assert!(svg.contains("<svg"));
        }
        let svg = stacked("t", &[], &["A".to_string()], &[]).unwrap();
        assert!(svg.contains("<svg"));
    }
}
