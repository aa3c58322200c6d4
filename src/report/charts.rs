//! Charts of the HTML report as inline SVG, drawn with plotters: bars of counts, stacked bars,
//! and the histogram of total scores with the band edges.

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

/// Text for SVG (XML) content and attributes.
fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Longest label written under a bar, turned 45° where the bars are narrow.
const LABEL_MAX: usize = 18;

/// The frame of a bar chart drawn by hand: one slot per label, a gap between bars, counts
/// from 0 to a round value along y with their grid, every bar's count written above it (a
/// bar of 29 beside one of 2,895 is a sliver, its number is not), labels under the slots
/// turned 45° (and every k-th one kept) where they do not fit flat. The page scales the
/// drawing down to its width (`viewBox`), so it never scrolls sideways.
struct Frame {
    svg: String,
    left: f64,
    slot: f64,
    base: f64,
    plot_h: f64,
    ymax: f64,
}

impl Frame {
    fn new(title: &str, labels: &[String], top: u64, legend: bool) -> Frame {
        let n = labels.len().max(1);
        // At least 360 px in all, for the title and a legend.
        let slot = (860.0 / n as f64).clamp(14.0, 112.0).max(276.0 / n as f64);
        let left = 64.0;
        let width = left + 20.0 + slot * n as f64;
        let longest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        let flat = (longest as f64) * 6.5 + 6.0 <= slot;
        let shown = longest.min(LABEL_MAX);
        let bottom = if flat {
            28.0
        } else {
            18.0 + shown as f64 * 4.8
        };
        // Room for the legend's line between the title and the counts above the bars.
        let (top_m, plot_h) = (if legend { 60.0 } else { 44.0 }, 220.0);
        let height = top_m + plot_h + bottom;
        let (ymax, step) = nice_axis(top);
        let base = top_m + plot_h;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" role=\"img\"><title>{t}</title><text x=\"{x:.0}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{t}</text>",
            t = xml(title),
            x = width / 2.0
        );
        let mut v = 0.0;
        while v <= ymax + 0.5 {
            let y = base - v / ymax * plot_h;
            svg += &format!(
                "<line x1=\"{left}\" x2=\"{x2:.0}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e3e3e3\"/><text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#444\">{v}</text>",
                x2 = width - 10.0,
                lx = left - 6.0,
                ty = y + 4.0,
            );
            v += step;
        }
        svg += &format!(
            "<line x1=\"{left}\" x2=\"{left}\" y1=\"{top_m}\" y2=\"{base}\" stroke=\"#888\"/><line x1=\"{left}\" x2=\"{x2:.0}\" y1=\"{base}\" y2=\"{base}\" stroke=\"#888\"/>",
            x2 = width - 10.0
        );
        // Labels: flat, or turned; every k-th where even turned ones would overlap.
        let every = if slot >= 14.0 {
            1
        } else {
            (14.0 / slot).ceil() as usize
        };
        for (i, l) in labels.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let cx = left + slot * (i as f64 + 0.5);
            let text = xml(&shorten(l, if flat { longest } else { LABEL_MAX }));
            svg += &if flat {
                format!(
                    "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" font-size=\"11\">{text}</text>",
                    y = base + 16.0
                )
            } else {
                format!(
                    "<text transform=\"translate({cx:.1},{y:.1}) rotate(-45)\" text-anchor=\"end\" font-size=\"11\">{text}</text>",
                    y = base + 10.0
                )
            };
        }
        Frame {
            svg,
            left,
            slot,
            base,
            plot_h,
            ymax,
        }
    }

    /// A bar (or a layer of one) in slot `i` from `from` to `to` counts.
    fn bar(&mut self, i: usize, from: u64, to: u64, colour: RGBColor, tip: &str) {
        let w = self.slot * 0.7;
        let x = self.left + self.slot * i as f64 + (self.slot - w) / 2.0;
        let y = |v: u64| self.base - v as f64 / self.ymax * self.plot_h;
        // At least a pixel tall, so a count of 1 among thousands shows.
        let h = (y(from) - y(to)).max(if to > from { 1.0 } else { 0.0 });
        self.svg += &format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}</title></rect>",
            y(from) - h,
            hex(colour),
            xml(tip)
        );
    }

    /// A count written above slot `i`'s bar of height `at`.
    fn value(&mut self, i: usize, at: u64, text: &str, colour: RGBColor) {
        let cx = self.left + self.slot * (i as f64 + 0.5);
        let y = self.base - at as f64 / self.ymax * self.plot_h - 4.0;
        let size = if self.slot < 30.0 { 9 } else { 11 };
        self.svg += &format!(
            "<text x=\"{cx:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" font-size=\"{size}\" fill=\"{}\">{}</text>",
            hex(colour),
            xml(text)
        );
    }

    fn finish(self) -> String {
        self.svg + "</svg>"
    }
}

/// A round axis maximum at or above `top`, and its tick step (about five ticks).
fn nice_axis(top: u64) -> (f64, f64) {
    let top = top.max(1) as f64;
    let raw = top / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    ((top / step).ceil() * step, step)
}

/// A bar chart of `values` labelled `labels`, each bar coloured by `colour`, its count written
/// above it.
pub fn bars(
    title: &str,
    labels: &[String],
    values: &[u64],
    colour: impl Fn(usize) -> RGBColor,
) -> Result<String> {
    let top = values.iter().copied().max().unwrap_or(0);
    let mut f = Frame::new(title, labels, top, false);
    for (i, (l, v)) in labels.iter().zip(values).enumerate() {
        f.bar(i, 0, *v, colour(i), &format!("{l}: {v}"));
        f.value(i, *v, &v.to_string(), RGBColor(34, 34, 34));
    }
    Ok(f.finish())
}

/// Stacked bars: one bar per key, one layer per grade (`counts[key][grade]`, highest grade
/// first, drawn at the bottom), a legend, and above each bar its count of the highest grade
/// in that grade's colour (the layer that is otherwise a sliver).
pub fn stacked(
    title: &str,
    keys: &[String],
    grades: &[String],
    counts: &[Vec<u64>],
) -> Result<String> {
    let top = counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0);
    let mut f = Frame::new(title, keys, top, true);
    for (k, c) in counts.iter().enumerate() {
        let mut below = 0;
        for (g, n) in c.iter().enumerate() {
            let tip = format!("{}, {}: {n}", keys[k], grades.get(g).map_or("", |s| s));
            f.bar(k, below, below + n, grade_colour(g, grades.len()), &tip);
            below += n;
        }
        if let Some(first) = c.first() {
            f.value(k, below, &first.to_string(), grade_colour(0, grades.len()));
        }
    }
    // Legend, top right.
    let mut x = f.left + 10.0;
    for (g, name) in grades.iter().enumerate() {
        f.svg += &format!(
            "<rect x=\"{x:.0}\" y=\"30\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{tx:.0}\" y=\"39\" font-size=\"11\">{}</text>",
            hex(grade_colour(g, grades.len())),
            xml(name),
            tx = x + 14.0
        );
        x += 24.0 + 7.0 * name.chars().count() as f64;
    }
    Ok(f.finish())
}

/// The histogram of total scores (one bar per point, 0–100) with the band edges drawn.
pub fn histogram(title: &str, counts: &[u64], edges: &[(f64, String)]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1000, 340)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let top = counts.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
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
