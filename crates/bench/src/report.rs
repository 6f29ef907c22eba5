//! docs/BENCHMARKS.md: the hub section (between markers, the rest of the file is kept) and SVG plots.
use plotters::prelude::*;
use std::path::Path;

pub const BEGIN: &str = "<!-- tally-bench:begin (written by `make bench`; edits here are overwritten) -->";
pub const END: &str = "<!-- tally-bench:end -->";

pub struct Report {
    pub sections: Vec<Section>,
    /// The two compared columns' headings: the hub and its peer (Socket.IO), or one hub and the cluster.
    pub columns: [String; 2],
}

impl Default for Report {
    fn default() -> Self {
        Report { sections: Vec::new(), columns: ["Tally".into(), "Socket.IO".into()] }
    }
}

pub struct Section {
    pub title: String,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
    pub plot: Option<Plot>,
}

pub struct Row {
    metric: String,
    tally: String,
    sio: String,
    raw: Option<String>,
    ratio: String,
    target: String,
    verdict: String,
}

impl Row {
    pub fn new(
        metric: &str,
        tally: String,
        sio: String,
        raw: Option<String>,
        ratio: String,
        target: &str,
        verdict: String,
    ) -> Row {
        Row { metric: metric.into(), tally, sio, raw, ratio, target: target.into(), verdict }
    }
}

pub struct Plot {
    pub file: String,
    pub title: String,
    /// (label, [(percentile, ms)]).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

pub fn f0(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let s = format!("{:.0}", x);
    let (neg, digits) = s.strip_prefix('-').map(|d| (true, d)).unwrap_or((false, s.as_str()));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if neg {
        format!("-{out}")
    } else {
        out
    }
}
pub fn f1(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "—".into()
    }
}
pub fn f2(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.2}")
    } else {
        "—".into()
    }
}
/// Milliseconds with sensible precision.
pub fn ms(x: f64) -> String {
    if !x.is_finite() {
        "—".into()
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else if x < 1000.0 {
        format!("{x:.1} ms")
    } else {
        format!("{:.2} s", x / 1000.0)
    }
}

/// Plots on a "nines" x axis (-log10(1 - p)): 0 %, 90 %, 99 %, 99.9 %, 99.99 %.
fn plot(p: &Plot, path: &Path) -> anyhow::Result<()> {
    let nines = |pct: f64| -(1.0 - (pct / 100.0).min(0.99999)).log10();
    // Log scale: Socket.IO's seconds and the baseline's milliseconds fit on one plot.
    let ymax = p.series.iter().flat_map(|(_, v)| v.iter().map(|x| x.1)).fold(1.0, f64::max) * 1.5;
    let ymin = p.series.iter().flat_map(|(_, v)| v.iter().map(|x| x.1)).fold(f64::MAX, f64::min).clamp(0.01, 1.0) * 0.8;
    let root = SVGBackend::new(path, (720, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(&p.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0.0..5.0f64, (ymin..ymax).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms, log scale)")
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(210, 210, 210))
        .x_labels(6)
        .x_label_formatter(&|x| match x.round() as i64 {
            0 => "0".into(),
            1 => "90".into(),
            2 => "99".into(),
            3 => "99.9".into(),
            4 => "99.99".into(),
            _ => "99.999".into(),
        })
        .draw()?;
    let colors = [RGBColor(15, 118, 110), RGBColor(220, 38, 38), RGBColor(100, 116, 139), RGBColor(37, 99, 235)];
    for (i, (label, pts)) in p.series.iter().enumerate() {
        let c = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().map(|(pct, v)| (nines(*pct), *v)), c.stroke_width(2)))?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE.mix(0.9)).draw()?;
    root.present()?;
    Ok(())
}

impl Report {
    /// The hub section as markdown; plots written next to `doc`.
    pub fn render(&self, doc: &Path, header: &str) -> anyhow::Result<String> {
        let dir = doc.parent().unwrap_or(Path::new("."));
        let mut md = String::new();
        md.push_str(header);
        for s in &self.sections {
            md.push_str(&format!("\n### {}\n\n", s.title));
            let raw = s.rows.iter().any(|r| r.raw.is_some());
            let [a, b] = &self.columns;
            if raw {
                md.push_str(&format!(
                    "| Metric | {a} | {b} | raw TCP | {a} ÷ {b} | Target | Verdict |\n|---|---|---|---|---|---|---|\n"
                ));
            } else {
                md.push_str(&format!(
                    "| Metric | {a} | {b} | {a} ÷ {b} | Target | Verdict |\n|---|---|---|---|---|---|\n"
                ));
            }
            for r in &s.rows {
                if raw {
                    md.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} | {} |\n",
                        r.metric,
                        r.tally,
                        r.sio,
                        r.raw.as_deref().unwrap_or("—"),
                        r.ratio,
                        r.target,
                        r.verdict
                    ));
                } else {
                    md.push_str(&format!(
                        "| {} | {} | {} | {} | {} | {} |\n",
                        r.metric, r.tally, r.sio, r.ratio, r.target, r.verdict
                    ));
                }
            }
            for n in &s.notes {
                md.push_str(&format!("\n{n}\n"));
            }
            if let Some(p) = &s.plot {
                if p.series.iter().any(|(_, v)| !v.is_empty()) {
                    plot(p, &dir.join(&p.file))?;
                    md.push_str(&format!("\n![{}]({})\n", p.title, p.file));
                }
            }
        }
        Ok(md)
    }

    /// Replaces the marked section of `doc` (or appends it).
    pub fn write(&self, doc: &Path, header: &str) -> anyhow::Result<()> {
        self.write_between(doc, header, BEGIN, END)
    }

    /// Replaces the section of `doc` between `begin` and `end` (or appends it with them).
    pub fn write_between(&self, doc: &Path, header: &str, begin: &str, end: &str) -> anyhow::Result<()> {
        let body = self.render(doc, header)?;
        let old = std::fs::read_to_string(doc).unwrap_or_default();
        let new = match (old.find(begin), old.find(end)) {
            (Some(a), Some(b)) if b > a => format!("{}{begin}\n{body}\n{end}{}", &old[..a], &old[b + end.len()..]),
            _ => format!("{old}\n{begin}\n{body}\n{end}\n"),
        };
        std::fs::write(doc, new)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_markers() {
        assert_eq!(f0(1_234_567.4), "1,234,567");
        assert_eq!(f0(999.0), "999");
        assert_eq!(ms(0.5), "0.50 ms");
        assert_eq!(ms(2500.0), "2.50 s");
        let dir = tempfile::tempdir().unwrap();
        let doc = dir.path().join("B.md");
        std::fs::write(&doc, format!("# B\n\nkeep me\n\n{BEGIN}\nold\n{END}\n\ntail\n")).unwrap();
        let r = Report {
            sections: vec![Section {
                title: "t".into(),
                rows: vec![Row::new("m", "1".into(), "2".into(), None, "0.50×".into(), "x", "met".into())],
                notes: vec![],
                plot: Some(Plot {
                    file: "p.svg".into(),
                    title: "p".into(),
                    series: vec![("a".into(), vec![(0.0, 1.0), (99.0, 2.0)])],
                }),
            }],
            ..Report::default()
        };
        r.write(&doc, "header\n").unwrap();
        let s = std::fs::read_to_string(&doc).unwrap();
        assert!(s.contains("keep me") && s.contains("tail") && !s.contains("old") && s.contains("| m | 1 | 2 |"));
        assert!(dir.path().join("p.svg").exists());
    }
}
