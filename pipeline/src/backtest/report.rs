//! The backtest's report: a side-by-side table for the terminal, and a self-contained
//! HTML page with the same table and SVG charts (month-end DSO, overdue share and
//! reminders per arm; reminders by channel).

use std::collections::BTreeMap;
use std::fmt::Write;

use models::report::escape;
use rust_decimal::Decimal;

use super::{ArmReport, BacktestReport, MonthEnd, Replication};

/// Whether more of a figure is better, for the change column.
#[derive(Clone, Copy)]
enum Better {
    Lower,
    Higher,
    Neither,
}

/// One row of the table: a name, a value per arm, and which way is better.
struct Row {
    name: String,
    values: Vec<Option<f64>>,
    format: fn(f64) -> String,
    better: Better,
}

fn days(v: f64) -> String {
    format!("{v:.1}")
}

fn share(v: f64) -> String {
    format!("{:.1} %", 100.0 * v)
}

fn ratio(v: f64) -> String {
    format!("{v:.3}")
}

fn count(v: f64) -> String {
    format!("{v:.0}")
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

fn decimal(d: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64()
}

fn rows(report: &BacktestReport) -> Vec<Row> {
    let arms = &report.arms;
    let row = |name: &str, f: &dyn Fn(&ArmReport) -> Option<f64>, format, better| Row {
        name: name.to_owned(),
        values: arms.iter().map(f).collect(),
        format,
        better,
    };
    let mut rows = vec![
        row("DSO (days)", &|a| a.dso_days, days, Better::Lower),
        row(
            "best possible DSO (terms alone)",
            &|a| a.best_possible_dso_days,
            days,
            Better::Neither,
        ),
        row("CEI", &|a| a.cei, ratio, Better::Higher),
        row("cure rate", &|a| a.cure_rate, share, Better::Higher),
        row(
            "average days delinquent",
            &|a| a.avg_days_delinquent,
            days,
            Better::Lower,
        ),
        row(
            "reminders and calls",
            &|a| Some(a.reminders_total as f64),
            count,
            Better::Lower,
        ),
    ];
    rows.extend(breakdown(
        arms,
        |c| format!("  by {c}"),
        |a| &a.reminders,
        count_of,
    ));
    rows.extend(breakdown(
        arms,
        |g| format!("  reminders in segment {g}"),
        |a| &a.reminders_by_segment,
        count_of,
    ));
    rows.push(row(
        "tasks created",
        &|a| Some(a.tasks_total as f64),
        count,
        Better::Lower,
    ));
    rows.extend(breakdown(
        arms,
        |k| format!("  {k}"),
        |a| &a.tasks,
        count_of,
    ));
    rows.extend([
        row(
            "payments matched automatically",
            &|a| a.auto_match_share,
            share,
            Better::Higher,
        ),
        row(
            "limit changes recommended",
            &|a| Some(a.limit_changes as f64),
            count,
            Better::Neither,
        ),
        row(
            "credit holds",
            &|a| Some(a.credit_holds as f64),
            count,
            Better::Neither,
        ),
        row(
            "payment plans proposed",
            &|a| Some(a.plans_proposed as f64),
            count,
            Better::Neither,
        ),
        row(
            "payment plans confirmed",
            &|a| Some(a.plans_confirmed as f64),
            count,
            Better::Neither,
        ),
        row(
            "invoices to the collection agency",
            &|a| Some(a.collection_handovers as f64),
            count,
            Better::Lower,
        ),
        row("invoiced", &|a| decimal(a.invoiced), money, Better::Neither),
        row(
            "bad debt written off (> 90 days past due at the end)",
            &|a| decimal(a.bad_debt),
            money,
            Better::Lower,
        ),
    ]);
    rows.extend(
        breakdown(
            arms,
            |t| format!("  bad debt of {t}"),
            |a| &a.bad_debt_by_type,
            |d: Decimal| (decimal(d), money),
        )
        .into_iter()
        .map(|r| Row {
            better: Better::Lower,
            ..r
        }),
    );
    rows.extend([
        row(
            "bad debt, share of invoiced",
            &|a| Some(decimal(a.bad_debt)? / decimal(a.invoiced).filter(|v| *v > 0.0)?),
            share,
            Better::Lower,
        ),
        row(
            "open at the end",
            &|a| decimal(a.open_at_end),
            money,
            Better::Neither,
        ),
    ]);
    rows.extend(breakdown(
        arms,
        |r| format!("debtor response: {r}"),
        |a| &a.responses,
        count_of,
    ));
    rows
}

/// A table value and how to write it.
type Cell = (Option<f64>, fn(f64) -> String);

/// A count as a table value.
fn count_of(n: u64) -> Cell {
    (Some(n as f64), count)
}

/// One row per key found in any arm's `map` (absent: zero), named by `name`.
fn breakdown<V: Copy + Default>(
    arms: &[ArmReport],
    name: impl Fn(&str) -> String,
    map: impl Fn(&ArmReport) -> &BTreeMap<String, V>,
    value: impl Fn(V) -> Cell,
) -> Vec<Row> {
    let mut keys: Vec<&String> = arms.iter().flat_map(|a| map(a).keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let values: Vec<Cell> = arms
                .iter()
                .map(|a| value(map(a).get(k).copied().unwrap_or_default()))
                .collect();
            Row {
                name: name(k),
                format: values.first().map_or(count as fn(f64) -> String, |v| v.1),
                values: values.into_iter().map(|v| v.0).collect(),
                better: Better::Neither,
            }
        })
        .collect()
}

/// The change of `v` against the first arm's `base`, as text.
fn change(base: Option<f64>, v: Option<f64>) -> String {
    match (base, v) {
        (Some(b), Some(v)) if b.abs() > 1e-12 => format!("{:+.1} %", 100.0 * (v - b) / b.abs()),
        _ => String::new(),
    }
}

/// The report for the terminal: a table with a column per arm; after the first arm each
/// value carries its change against the first.
pub fn text(report: &BacktestReport) -> String {
    let rows = rows(report);
    let mut header = vec!["".to_owned()];
    header.extend(report.arms.iter().map(|a| a.label.clone()));
    let mut table: Vec<Vec<String>> = vec![header];
    for r in &rows {
        let mut line = vec![r.name.clone()];
        for (i, v) in r.values.iter().enumerate() {
            let mut cell = v.map_or("–".to_owned(), r.format);
            if i > 0 {
                let c = change(r.values[0], *v);
                if !c.is_empty() {
                    cell = format!("{cell} ({c})");
                }
            }
            line.push(cell);
        }
        table.push(line);
    }
    let mut out = format!(
        "backtest, {}: {}; KPIs are means of the month ends after {} warm-up months (all of them when the run is not longer)\n",
        report.mode, report.source, report.warm_up_months
    );
    out.push_str(&aligned(&table));
    if let Some(first) = report.replications.first() {
        let _ = writeln!(
            out,
            "\nover {} seeds ({}): mean (min–max); after the first arm, the seeds in which it did better than {}",
            first.seeds.len(),
            first
                .seeds
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            first.label
        );
        let mut table = vec![
            std::iter::once(String::new())
                .chain(report.replications.iter().map(|r| r.label.clone()))
                .collect::<Vec<_>>(),
        ];
        table.extend(replication_rows(report));
        out.push_str(&aligned(&table));
    }
    out
}

/// A table with its columns padded to their widest cell (the first left-aligned).
fn aligned(table: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..table.first().map_or(0, Vec::len))
        .map(|c| {
            table
                .iter()
                .map(|l| l.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in table {
        for (c, cell) in line.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                let _ = write!(out, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{cell}", " ".repeat(pad));
            }
        }
        out.push('\n');
    }
    out
}

/// Rows of the replications' table: a figure, then per arm its mean (min–max) over the
/// seeds and, after the first arm, in how many seeds it did better than the first.
fn replication_rows(report: &BacktestReport) -> Vec<Vec<String>> {
    type Figure = (
        &'static str,
        fn(&Replication) -> Vec<Option<f64>>,
        fn(f64) -> String,
        Better,
    );
    let figures: [Figure; 6] = [
        ("DSO (days)", |r| r.dso_days.clone(), days, Better::Lower),
        (
            "average days delinquent",
            |r| r.avg_days_delinquent.clone(),
            days,
            Better::Lower,
        ),
        ("CEI", |r| r.cei.clone(), ratio, Better::Higher),
        (
            "reminders and calls",
            |r| r.reminders_total.iter().map(|n| Some(*n as f64)).collect(),
            count,
            Better::Lower,
        ),
        (
            "bad debt",
            |r| r.bad_debt.iter().map(|d| decimal(*d)).collect(),
            count,
            Better::Lower,
        ),
        (
            "invoiced",
            |r| r.invoiced.iter().map(|d| decimal(*d)).collect(),
            count,
            Better::Higher,
        ),
    ];
    let reps = &report.replications;
    let mut rows = Vec::new();
    for (name, values, format, better) in figures {
        let mut row = vec![name.to_owned()];
        let base = reps.first().map(values).unwrap_or_default();
        for (i, r) in reps.iter().enumerate() {
            let v = values(r);
            let known: Vec<f64> = v.iter().flatten().copied().collect();
            let mut cell = if known.is_empty() {
                "–".to_owned()
            } else {
                let mean = known.iter().sum::<f64>() / known.len() as f64;
                let min = known.iter().copied().fold(f64::INFINITY, f64::min);
                let max = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!("{} ({}–{})", format(mean), format(min), format(max))
            };
            if i > 0 {
                let wins = v
                    .iter()
                    .zip(&base)
                    .filter(|(v, b)| match (v, b, better) {
                        (Some(v), Some(b), Better::Lower) => v < b,
                        (Some(v), Some(b), Better::Higher) => v > b,
                        _ => false,
                    })
                    .count();
                cell = format!("{cell}, better in {wins}/{}", v.len());
            }
            row.push(cell);
        }
        rows.push(row);
    }
    rows
}

const COLOURS: [&str; 6] = [
    "#1f6feb", "#d1242f", "#1a7f37", "#9a6700", "#8250df", "#57606a",
];

/// A line chart of one month-end figure, a line per arm.
fn line_chart(
    report: &BacktestReport,
    title: &str,
    y_label: &str,
    value: fn(&MonthEnd) -> Option<f64>,
) -> String {
    let (width, height, pad) = (460.0, 240.0, 48.0);
    let series: Vec<Vec<(usize, f64)>> = report
        .arms
        .iter()
        .map(|a| {
            a.months
                .iter()
                .enumerate()
                .filter_map(|(i, m)| Some((i, value(m)?)))
                .collect()
        })
        .collect();
    let months = report
        .arms
        .iter()
        .map(|a| a.months.len())
        .max()
        .unwrap_or(0);
    let top = series
        .iter()
        .flatten()
        .map(|p| p.1)
        .fold(0.0_f64, f64::max)
        .max(1e-9)
        * 1.1;
    let x = |i: usize| pad + width * i as f64 / (months.max(2) - 1) as f64;
    let y = |v: f64| pad + height - height * v / top;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{t}\">\n\
         <text x=\"{cx}\" y=\"20\" text-anchor=\"middle\" style=\"font-size:13px;font-weight:bold\">{t}</text>\n\
         <rect x=\"{pad}\" y=\"{pad}\" width=\"{width}\" height=\"{height}\" fill=\"none\" stroke=\"#444\"/>\n\
         <text x=\"12\" y=\"{cy}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {cy})\">{yl}</text>\n",
        w = width + 2.0 * pad + 140.0,
        h = height + 2.0 * pad,
        t = escape(title),
        cx = pad + width / 2.0,
        cy = pad + height / 2.0,
        yl = escape(y_label),
    );
    for k in 0..=4 {
        let v = top * f64::from(k) / 4.0;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            pad - 4.0,
            y(v) + 4.0,
            if top < 2.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.0}")
            }
        );
    }
    // The warm-up months, left out of the means, shaded.
    let warm = (report.warm_up_months as usize).min(months);
    if warm > 0 && months > warm {
        let _ = writeln!(
            s,
            "<rect x=\"{pad}\" y=\"{pad}\" width=\"{:.1}\" height=\"{height}\" fill=\"#000\" fill-opacity=\"0.06\"><title>warm-up, left out of the means</title></rect>",
            (x(warm - 1) + x(warm)) / 2.0 - pad
        );
    }
    if let Some(arm) = report.arms.iter().max_by_key(|a| a.months.len()) {
        for (i, m) in arm.months.iter().enumerate() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                x(i),
                pad + height + 14.0,
                m.date.format("%b")
            );
        }
    }
    for (k, (points, arm)) in series.iter().zip(&report.arms).enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let line: Vec<String> = points
            .iter()
            .map(|&(i, v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        let _ = writeln!(
            s,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"{colour}\">{}</text>",
            line.join(" "),
            pad + width + 8.0,
            pad + 14.0 + 16.0 * k as f64,
            escape(&arm.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Grouped bars: reminders by channel, a bar per arm.
fn channel_chart(report: &BacktestReport) -> String {
    let mut channels: Vec<&String> = report
        .arms
        .iter()
        .flat_map(|a| a.reminders.keys())
        .collect();
    channels.sort();
    channels.dedup();
    let (width, height, pad) = (460.0, 240.0, 48.0);
    let most = report
        .arms
        .iter()
        .flat_map(|a| a.reminders.values())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let group = width / channels.len().max(1) as f64;
    let bar = group * 0.8 / report.arms.len().max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"Reminders by channel\">\n\
         <text x=\"{cx}\" y=\"20\" text-anchor=\"middle\" style=\"font-size:13px;font-weight:bold\">Reminders and calls by channel</text>\n\
         <line x1=\"{pad}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#444\"/>\n",
        w = width + 2.0 * pad + 140.0,
        h = height + 2.0 * pad,
        cx = pad + width / 2.0,
        base = pad + height,
        right = pad + width,
    );
    for (g, c) in channels.iter().enumerate() {
        let left = pad + group * g as f64 + group * 0.1;
        for (k, arm) in report.arms.iter().enumerate() {
            let n = arm.reminders.get(*c).copied().unwrap_or(0);
            let h = height * n as f64 / most;
            let _ = writeln!(
                s,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{}: {n} by {}</title></rect>\n\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{n}</text>",
                left + bar * k as f64,
                pad + height - h,
                bar * 0.95,
                COLOURS[k % COLOURS.len()],
                escape(&arm.label),
                escape(c),
                left + bar * (k as f64 + 0.475),
                pad + height - h - 3.0
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            pad + group * (g as f64 + 0.5),
            pad + height + 14.0,
            escape(c)
        );
    }
    for (k, arm) in report.arms.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\">{}</text>",
            pad + width + 8.0,
            pad + 14.0 + 16.0 * k as f64,
            COLOURS[k % COLOURS.len()],
            escape(&arm.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The report as a self-contained HTML page.
pub fn html(report: &BacktestReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>creditstream backtest</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 64em; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; }}\n\
         td, th {{ padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: right; }}\n\
         th {{ background: #f4f4f4; }} td:first-child, th:first-child {{ text-align: left; }}\n\
         .better {{ color: #1a7f37; }} .worse {{ color: #d1242f; }}\n\
         .charts {{ display: flex; flex-wrap: wrap; gap: 1em; }}\n\
         svg text {{ font-size: 11px; }}\n</style>\n</head>\n<body>\n\
         <h1>Backtest</h1>\n<p>{mode}: {source}. DSO, CEI, cure rate and average days delinquent \
         are means of the month ends after {warm} warm-up months (30-day window). Changes are \
         against the first arm.</p>\n",
        mode = escape(&report.mode),
        source = escape(&report.source),
        warm = report.warm_up_months
    );
    h.push_str("<table>\n<tr><th></th>");
    for a in &report.arms {
        let model = a
            .model_version
            .as_deref()
            .map_or(String::new(), |m| format!("<br>model {}", escape(m)));
        let _ = write!(h, "<th>{}{model}</th>", escape(&a.label));
    }
    h.push_str("</tr>\n");
    for r in rows(report) {
        let _ = write!(h, "<tr><td>{}</td>", escape(r.name.trim()));
        for (i, v) in r.values.iter().enumerate() {
            let value = v.map_or("–".to_owned(), r.format);
            let c = if i > 0 {
                change(r.values[0], *v)
            } else {
                String::new()
            };
            let class = match (r.better, r.values[0], v) {
                (Better::Lower, Some(b), Some(v)) if i > 0 && *v < b => " class=\"better\"",
                (Better::Lower, Some(b), Some(v)) if i > 0 && *v > b => " class=\"worse\"",
                (Better::Higher, Some(b), Some(v)) if i > 0 && *v > b => " class=\"better\"",
                (Better::Higher, Some(b), Some(v)) if i > 0 && *v < b => " class=\"worse\"",
                _ => "",
            };
            if c.is_empty() {
                let _ = write!(h, "<td{class}>{value}</td>");
            } else {
                let _ = write!(h, "<td{class}>{value} ({c})</td>");
            }
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if let Some(first) = report.replications.first() {
        let _ = write!(
            h,
            "<h2>Over {} seeds</h2>\n<p>Seeds {}: mean (min–max) of each figure; after the first arm, the seeds in which it did better than {}. The table above and the charts are the first seed's.</p>\n<table>\n<tr><th></th>",
            first.seeds.len(),
            first
                .seeds
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            escape(&first.label)
        );
        for r in &report.replications {
            let _ = write!(h, "<th>{}</th>", escape(&r.label));
        }
        h.push_str("</tr>\n");
        for row in replication_rows(report) {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(&cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    h.push_str("<div class=\"charts\">\n");
    h.push_str(&line_chart(
        report,
        "DSO at month end (30-day window)",
        "days",
        |m| m.dso_days,
    ));
    h.push_str(&line_chart(
        report,
        "Overdue share of the receivables",
        "share",
        |m| m.overdue_share,
    ));
    h.push_str(&line_chart(
        report,
        "Reminders and calls per month",
        "reminders",
        |m| Some(m.reminders as f64),
    ));
    h.push_str(&line_chart(report, "CEI at month end", "CEI", |m| m.cei));
    h.push_str(&channel_chart(report));
    h.push_str("</div>\n</body>\n</html>\n");
    h
}
