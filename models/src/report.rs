//! A trained model judged on labelled rows: the figures (AUC, KS, Brier score, log-loss),
//! the confusion per risk class, the calibration table, the ROC curve and the features
//! that matter most — as text for the terminal and as a self-contained HTML page with
//! inline SVG charts.

use std::fmt::Write as _;

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use crate::artifact::ModelArtifact;
use crate::classes::ClassRow;
use crate::error::ModelError;
use crate::metrics::{Evaluation, RocPoint, evaluate, roc_curve};
use crate::training::{CALIBRATION_BINS, calibrated_probabilities};

/// Features shown in the importance chart.
const TOP_FEATURES: usize = 20;
/// Features listed by drift.
const TOP_DRIFT: usize = 10;
/// Points of the ROC curve kept for the chart.
const ROC_POINTS: usize = 200;

/// A model's assessment on a set of labelled rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelReport {
    /// What the rows are (e.g. "validation invoices of the simulated portfolio").
    pub title: String,
    /// The model's version.
    pub version: String,
    /// What was trained.
    pub trainer: String,
    /// Time of the first and last row assessed, as people read it.
    pub period: (String, String),
    /// The figures, on calibrated probabilities.
    pub evaluation: Evaluation,
    /// Rows and late rows per risk class.
    pub classes: Vec<ClassRow>,
    /// ROC curve, thinned.
    pub roc: Vec<RocPoint>,
    /// The most important features, most important first, with their share.
    pub importance: Vec<(String, f64)>,
    /// The features that moved most since training: population stability index of these
    /// rows against the training rows, largest first.
    pub drift: Vec<(String, f64)>,
}

/// Scores `x` with the artifact and assesses the calibrated probabilities against
/// `labels`; `period` is the first and last row's time.
pub fn assess(
    artifact: &ModelArtifact,
    title: &str,
    x: ArrayView2<'_, f64>,
    labels: &[bool],
    period: (i64, i64),
) -> Result<ModelReport, ModelError> {
    let probabilities = calibrated_probabilities(&artifact.model, &artifact.calibrator, x)?;
    let evaluation = evaluate(
        &probabilities,
        labels,
        artifact.metadata.training_base_rate,
        CALIBRATION_BINS,
    )?;
    let names = artifact.encoding.feature_names();
    let mut importance: Vec<(String, f64)> =
        names.into_iter().zip(artifact.model.importance()).collect();
    importance.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    importance.truncate(TOP_FEATURES);
    let mut drift: Vec<(String, f64)> = artifact
        .encoding
        .feature_names()
        .into_iter()
        .zip(crate::drift::psi(&artifact.metadata.feature_profiles, x))
        .collect();
    drift.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    drift.truncate(TOP_DRIFT);
    let kind = artifact.metadata.time_kind;
    Ok(ModelReport {
        title: title.to_owned(),
        version: artifact.metadata.version.clone(),
        trainer: artifact.metadata.trainer.clone(),
        period: (kind.format(period.0), kind.format(period.1)),
        classes: artifact.classes.table(&probabilities, labels),
        roc: roc_curve(&probabilities, labels, ROC_POINTS)?,
        evaluation,
        importance,
        drift,
    })
}

fn percent(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

/// `s` with the characters HTML gives a meaning to escaped (text and attribute values).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl ModelReport {
    /// The figures, class table and calibration table as plain text.
    pub fn text(&self) -> String {
        let e = &self.evaluation;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "model {} on {} rows from {} to {} ({} late, {})",
            self.version,
            e.rows,
            self.period.0,
            self.period.1,
            e.positives,
            percent(e.base_rate)
        );
        let _ = writeln!(
            out,
            "AUC {:.4}  KS {:.4}  Brier {:.4} (base-rate predictor {:.4})  log-loss {:.4}  calibration error {:.4}",
            e.auc, e.ks, e.brier, e.brier_reference, e.log_loss, e.expected_calibration_error
        );
        let _ = writeln!(
            out,
            "\nclass  probability     rows    late  late share  predicted"
        );
        for c in &self.classes {
            let share = if c.rows > 0 {
                percent(c.late as f64 / c.rows as f64)
            } else {
                "-".into()
            };
            let _ = writeln!(
                out,
                "{:<6} {:>5.1}–{:<5.1} % {:>8} {:>7} {:>11} {:>10}",
                c.label,
                100.0 * c.from,
                100.0 * c.to,
                c.rows,
                c.late,
                share,
                if c.rows > 0 {
                    percent(c.mean_predicted)
                } else {
                    "-".into()
                }
            );
        }
        let _ = writeln!(out, "\npredicted band      rows  predicted   observed");
        for b in &e.calibration {
            let _ = writeln!(
                out,
                "{:>5.1}–{:<5.1} % {:>10} {:>10} {:>10}",
                100.0 * b.lower,
                100.0 * b.upper,
                b.rows,
                percent(b.mean_predicted),
                percent(b.observed)
            );
        }
        if !self.drift.is_empty() {
            let _ = writeln!(
                out,
                "\nmoved most since training (population stability index)"
            );
            for (name, psi) in &self.drift {
                let _ = writeln!(out, "{psi:>8.3}  {name}");
            }
        }
        out
    }

    /// A self-contained HTML page: figures, tables and SVG charts (ROC curve,
    /// calibration, feature importance).
    pub fn html(&self) -> String {
        let e = &self.evaluation;
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <title>{title} — model {version}</title>\n<style>\n\
             body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }}\n\
             table {{ border-collapse: collapse; margin: 1em 0; }}\n\
             td, th {{ padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }}\n\
             th {{ background: #f4f4f4; }} td:first-child, th:first-child {{ text-align: left; }}\n\
             .charts {{ display: flex; flex-wrap: wrap; gap: 2em; }}\n\
             svg text {{ font-size: 11px; }}\n</style>\n</head>\n<body>\n",
            title = escape(&self.title),
            version = escape(&self.version)
        );
        let _ = writeln!(
            h,
            "<h1>{}</h1>\n<p>Model <b>{}</b>: {}.<br>{} rows from {} to {}; {} paid late ({}).</p>",
            escape(&self.title),
            escape(&self.version),
            escape(&self.trainer),
            e.rows,
            escape(&self.period.0),
            escape(&self.period.1),
            e.positives,
            percent(e.base_rate)
        );
        let _ = writeln!(
            h,
            "<table>\n<tr><th>measure</th><th>value</th><th>what it says</th></tr>\n\
             <tr><td>AUC</td><td>{:.4}</td><td style=\"text-align:left\">chance that a late invoice scores above an on-time one (0.5 is chance)</td></tr>\n\
             <tr><td>KS</td><td>{:.4}</td><td style=\"text-align:left\">largest gap between the score distributions of late and on-time invoices</td></tr>\n\
             <tr><td>Brier score</td><td>{:.4}</td><td style=\"text-align:left\">mean squared error of the probabilities; predicting the training late share scores {:.4}</td></tr>\n\
             <tr><td>log-loss</td><td>{:.4}</td><td style=\"text-align:left\">mean negative log-likelihood of what happened</td></tr>\n\
             <tr><td>calibration error</td><td>{:.4}</td><td style=\"text-align:left\">mean gap between predicted and observed late share, by band</td></tr>\n</table>",
            e.auc, e.ks, e.brier, e.brier_reference, e.log_loss, e.expected_calibration_error
        );
        h.push_str("<div class=\"charts\">\n");
        h.push_str(&self.roc_svg());
        h.push_str(&self.calibration_svg());
        h.push_str("</div>\n");
        h.push_str("<h2>Risk classes</h2>\n<table>\n<tr><th>class</th><th>probability</th><th>invoices</th><th>late</th><th>late share</th><th>mean predicted</th></tr>\n");
        for c in &self.classes {
            let (share, predicted) = if c.rows > 0 {
                (
                    percent(c.late as f64 / c.rows as f64),
                    percent(c.mean_predicted),
                )
            } else {
                ("–".into(), "–".into())
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{:.1}–{:.1} %</td><td>{}</td><td>{}</td><td>{share}</td><td>{predicted}</td></tr>",
                escape(&c.label),
                100.0 * c.from,
                100.0 * c.to,
                c.rows,
                c.late
            );
        }
        h.push_str("</table>\n<h2>Calibration</h2>\n<table>\n<tr><th>predicted band</th><th>invoices</th><th>mean predicted</th><th>observed late share</th></tr>\n");
        for b in &e.calibration {
            let _ = writeln!(
                h,
                "<tr><td>{:.0}–{:.0} %</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                100.0 * b.lower,
                100.0 * b.upper,
                b.rows,
                percent(b.mean_predicted),
                percent(b.observed)
            );
        }
        h.push_str("</table>\n<h2>What the model looks at</h2>\n");
        h.push_str(&self.importance_svg());
        if !self.drift.is_empty() {
            h.push_str("<h2>What moved since training</h2>\n<p>Population stability index of each feature on these rows against the training rows: below 0.1 stable, 0.1 to 0.25 worth a look, above 0.25 moved.</p>\n<table>\n<tr><th>feature</th><th>PSI</th></tr>\n");
            for (name, psi) in &self.drift {
                let _ = writeln!(h, "<tr><td>{}</td><td>{psi:.3}</td></tr>", escape(name));
            }
            h.push_str("</table>\n");
        }
        h.push_str("</body>\n</html>\n");
        h
    }

    fn roc_svg(&self) -> String {
        let (size, pad) = (300.0, 40.0);
        let mut s = chart_frame(
            size,
            pad,
            &format!("ROC curve (AUC {:.3})", self.evaluation.auc),
            "false-positive rate",
            "true-positive rate",
        );
        let _ = writeln!(
            s,
            "<line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{pad}\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>",
            y0 = pad + size,
            x1 = pad + size
        );
        let points: Vec<String> = self
            .roc
            .iter()
            .map(|p| format!("{:.1},{:.1}", pad + p.fpr * size, pad + size - p.tpr * size))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"#1f6feb\" stroke-width=\"2\" points=\"{}\"/>\n</svg>",
            points.join(" ")
        );
        s
    }

    fn calibration_svg(&self) -> String {
        let (size, pad) = (300.0, 40.0);
        let mut s = chart_frame(
            size,
            pad,
            "Calibration (dot area ~ invoices)",
            "predicted late share",
            "observed late share",
        );
        let _ = writeln!(
            s,
            "<line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{pad}\" stroke=\"#aaa\" stroke-dasharray=\"4 4\"/>",
            y0 = pad + size,
            x1 = pad + size
        );
        let most = self
            .evaluation
            .calibration
            .iter()
            .map(|b| b.rows)
            .max()
            .unwrap_or(1)
            .max(1) as f64;
        for b in &self.evaluation.calibration {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"#d1242f\" fill-opacity=\"0.6\"><title>{} invoices: predicted {}, observed {}</title></circle>",
                pad + b.mean_predicted * size,
                pad + size - b.observed * size,
                2.0 + 10.0 * (b.rows as f64 / most).sqrt(),
                b.rows,
                percent(b.mean_predicted),
                percent(b.observed)
            );
        }
        s.push_str("</svg>\n");
        s
    }

    fn importance_svg(&self) -> String {
        let (label_width, bar_width, row) = (260.0, 320.0, 18.0);
        let height = row * self.importance.len() as f64 + 10.0;
        let most = self
            .importance
            .first()
            .map_or(1.0, |f| f.1)
            .max(f64::MIN_POSITIVE);
        let mut s = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"feature importance\">\n",
            w = label_width + bar_width + 60.0
        );
        for (i, (name, share)) in self.importance.iter().enumerate() {
            let y = 5.0 + row * i as f64;
            let _ = writeln!(
                s,
                "<text x=\"{lx}\" y=\"{ty:.1}\" text-anchor=\"end\">{name}</text>\
                 <rect x=\"{bx}\" y=\"{y:.1}\" width=\"{bw:.1}\" height=\"{bh}\" fill=\"#8250df\"/>\
                 <text x=\"{vx:.1}\" y=\"{ty:.1}\">{share}</text>",
                lx = label_width - 6.0,
                ty = y + 12.0,
                name = escape(name),
                bx = label_width,
                bw = bar_width * share / most,
                bh = row - 4.0,
                vx = label_width + bar_width * share / most + 4.0,
                share = percent(*share)
            );
        }
        s.push_str("</svg>\n");
        s
    }
}

/// An SVG chart's frame: square plot area with axes from 0 to 1, a title and labels.
fn chart_frame(size: f64, pad: f64, title: &str, x_label: &str, y_label: &str) -> String {
    let full = size + 2.0 * pad;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{full}\" height=\"{full}\" role=\"img\" aria-label=\"{t}\">\n\
         <text x=\"{cx}\" y=\"20\" text-anchor=\"middle\" style=\"font-size:13px;font-weight:bold\">{t}</text>\n\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#444\"/>\n",
        t = escape(title),
        cx = full / 2.0
    );
    for k in 0..=4 {
        let v = f64::from(k) / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\">{v}</text>\
             <text x=\"{x2:.1}\" y=\"{y2:.1}\" text-anchor=\"end\">{v}</text>",
            x = pad + v * size,
            y = pad + size + 14.0,
            x2 = pad - 4.0,
            y2 = pad + size - v * size + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{cx}\" y=\"{by}\" text-anchor=\"middle\">{x}</text>\
         <text x=\"12\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {cy})\">{y}</text>",
        cx = pad + size / 2.0,
        by = full - 6.0,
        x = escape(x_label),
        cy = pad + size / 2.0,
        y = escape(y_label)
    );
    s
}
