//! Training tables: Arrow record batches (a point-in-time training set, a public table,
//! a synthetic one) turned into the numeric matrix the models take. The encoding learnt
//! from the training rows travels with the model, so rows scored later are encoded the
//! same way, and its schema hash tells whether the running features still fit it.

use std::ops::Range;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Schema, TimeUnit};
use ndarray::{Array2, ArrayView2, Axis, Slice};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ModelError;

/// More distinct values than this in a text column means it is an identifier, not a
/// category.
pub const MAX_CATEGORIES: usize = 64;

/// How one input column becomes model features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EncodedColumn {
    /// A number (integer, float, decimal or boolean as 0/1); NULL is missing (NaN).
    Number {
        /// Column name.
        name: String,
    },
    /// A text category, one indicator per category seen in training; NULL or a value
    /// not seen in training sets none of them.
    Category {
        /// Column name.
        name: String,
        /// Categories seen in training, sorted.
        categories: Vec<String>,
    },
}

impl EncodedColumn {
    /// The input column's name.
    pub fn name(&self) -> &str {
        match self {
            EncodedColumn::Number { name } | EncodedColumn::Category { name, .. } => name,
        }
    }
    fn width(&self) -> usize {
        match self {
            EncodedColumn::Number { .. } => 1,
            EncodedColumn::Category { categories, .. } => categories.len(),
        }
    }
}

/// The encoding of input columns into the model's feature vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoding {
    /// Input columns in feature order.
    pub columns: Vec<EncodedColumn>,
}

impl FeatureEncoding {
    /// Learns the encoding of every column of `schema` not in `skip`.
    pub fn learn(
        schema: &Schema,
        batches: &[RecordBatch],
        skip: &[&str],
    ) -> Result<FeatureEncoding, ModelError> {
        let mut columns = Vec::new();
        for (index, field) in schema.fields().iter().enumerate() {
            let name = field.name();
            if skip.contains(&name.as_str()) {
                continue;
            }
            match field.data_type() {
                t if is_number(t) => columns.push(EncodedColumn::Number { name: name.clone() }),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    let mut categories = std::collections::BTreeSet::new();
                    for b in batches {
                        for v in strings(b.column(index)).into_iter().flatten() {
                            categories.insert(v);
                            if categories.len() > MAX_CATEGORIES {
                                return Err(ModelError::Data(format!(
                                    "column {name} has more than {MAX_CATEGORIES} distinct values: \
                                     an identifier, not a feature; leave it out"
                                )));
                            }
                        }
                    }
                    columns.push(EncodedColumn::Category {
                        name: name.clone(),
                        categories: categories.into_iter().collect(),
                    });
                }
                other => {
                    return Err(ModelError::Data(format!(
                        "column {name} has type {other}, which is not a feature type \
                         (numbers, booleans, text categories); leave it out"
                    )));
                }
            }
        }
        if columns.is_empty() {
            return Err(ModelError::Data("no feature columns".into()));
        }
        Ok(FeatureEncoding { columns })
    }

    /// Number of model features.
    pub fn width(&self) -> usize {
        self.columns.iter().map(EncodedColumn::width).sum()
    }

    /// Model feature names: the column name, or `column=category` for an indicator.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|c| match c {
                EncodedColumn::Number { name } => vec![name.clone()],
                EncodedColumn::Category { name, categories } => {
                    categories.iter().map(|v| format!("{name}={v}")).collect()
                }
            })
            .collect()
    }

    /// A digest of the input columns the encoding reads and their kinds: a model may
    /// score only features whose schema hash equals its own.
    pub fn schema_hash(&self) -> String {
        let mut h = Sha256::new();
        for c in &self.columns {
            match c {
                EncodedColumn::Number { name } => h.update(format!("number {name}\n")),
                EncodedColumn::Category { name, categories } => {
                    h.update(format!("category {name} {}\n", categories.join("\u{1f}")))
                }
            }
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// What keeps rows of `schema` from being encoded: each column the encoding reads
    /// that `schema` lacks or has with a type of another kind, in words (empty: it fits).
    pub fn misfits(&self, schema: &Schema) -> Vec<String> {
        let mut problems = Vec::new();
        for c in &self.columns {
            let Ok(field) = schema.field_with_name(c.name()) else {
                problems.push(format!("column {} is missing", c.name()));
                continue;
            };
            let t = field.data_type();
            match c {
                EncodedColumn::Number { name } if !is_number(t) => problems.push(format!(
                    "column {name} has type {t}, the model expects a number"
                )),
                EncodedColumn::Category { name, .. } if !is_text(t) => problems.push(format!(
                    "column {name} has type {t}, the model expects text"
                )),
                _ => {}
            }
        }
        problems
    }

    /// Encodes a batch into rows × features; columns are found by name.
    pub fn encode(&self, batch: &RecordBatch) -> Result<Array2<f64>, ModelError> {
        let mut out = Array2::<f64>::zeros((batch.num_rows(), self.width()));
        let mut at = 0;
        for c in &self.columns {
            let column = batch.column_by_name(c.name()).ok_or_else(|| {
                ModelError::Data(format!("the features have no column {}", c.name()))
            })?;
            match c {
                EncodedColumn::Number { name } => {
                    let values = numbers(column).ok_or_else(|| {
                        ModelError::Data(format!(
                            "column {name} has type {}, the model expects a number",
                            column.data_type()
                        ))
                    })?;
                    if let Some(i) = values.iter().position(|v| v.is_infinite()) {
                        return Err(ModelError::Data(format!(
                            "column {name}, row {i}: infinite value"
                        )));
                    }
                    out.column_mut(at)
                        .iter_mut()
                        .zip(values)
                        .for_each(|(o, v)| *o = v);
                }
                EncodedColumn::Category { name, categories } => {
                    if !is_text(column.data_type()) {
                        return Err(ModelError::Data(format!(
                            "column {name} has type {}, the model expects text",
                            column.data_type()
                        )));
                    }
                    for (i, v) in strings(column).into_iter().enumerate() {
                        if let Some(k) = v.and_then(|v| categories.binary_search(&v).ok()) {
                            out[[i, at + k]] = 1.0;
                        }
                    }
                }
            }
            at += c.width();
        }
        Ok(out)
    }
}

fn is_number(t: &DataType) -> bool {
    t.is_integer() || t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Boolean)
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// A numeric column as `f64` (NULL → NaN); `None` for other types.
fn numbers(a: &ArrayRef) -> Option<Vec<f64>> {
    fn collect<T: arrow_array::ArrowPrimitiveType>(
        a: &ArrayRef,
        f: impl Fn(T::Native) -> f64,
    ) -> Vec<f64> {
        let p = a.as_primitive::<T>();
        (0..p.len())
            .map(|i| {
                if p.is_null(i) {
                    f64::NAN
                } else {
                    f(p.value(i))
                }
            })
            .collect()
    }
    Some(match a.data_type() {
        DataType::Float64 => collect::<Float64Type>(a, |v| v),
        DataType::Float32 => collect::<Float32Type>(a, f64::from),
        DataType::Int8 => collect::<Int8Type>(a, f64::from),
        DataType::Int16 => collect::<Int16Type>(a, f64::from),
        DataType::Int32 => collect::<Int32Type>(a, f64::from),
        DataType::Int64 => collect::<Int64Type>(a, |v| v as f64),
        DataType::UInt8 => collect::<UInt8Type>(a, f64::from),
        DataType::UInt16 => collect::<UInt16Type>(a, f64::from),
        DataType::UInt32 => collect::<UInt32Type>(a, f64::from),
        DataType::UInt64 => collect::<UInt64Type>(a, |v| v as f64),
        DataType::Decimal128(_, scale) => {
            let divisor = 10_f64.powi(i32::from(*scale));
            collect::<Decimal128Type>(a, |v| v as f64 / divisor)
        }
        DataType::Boolean => {
            let b = a.as_boolean();
            (0..b.len())
                .map(|i| {
                    if b.is_null(i) {
                        f64::NAN
                    } else {
                        f64::from(u8::from(b.value(i)))
                    }
                })
                .collect()
        }
        _ => return None,
    })
}

/// A text column's values (NULL → `None`); empty for other types.
fn strings(a: &ArrayRef) -> Vec<Option<String>> {
    match a.data_type() {
        DataType::Utf8 => a
            .as_string::<i32>()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        DataType::LargeUtf8 => a
            .as_string::<i64>()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        DataType::Utf8View => a
            .as_string_view()
            .iter()
            .map(|v| v.map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// A time column as integers that order the rows (any unit; dates as days).
fn times(a: &ArrayRef, name: &str) -> Result<Vec<Option<i64>>, ModelError> {
    use arrow_array::types::{
        Date32Type, TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    fn collect<T: arrow_array::ArrowPrimitiveType>(
        a: &ArrayRef,
        f: impl Fn(T::Native) -> i64,
    ) -> Vec<Option<i64>> {
        a.as_primitive::<T>().iter().map(|v| v.map(&f)).collect()
    }
    Ok(match a.data_type() {
        DataType::Int64 => collect::<Int64Type>(a, |v| v),
        DataType::Int32 => collect::<Int32Type>(a, i64::from),
        DataType::Date32 => collect::<Date32Type>(a, i64::from),
        DataType::Timestamp(TimeUnit::Second, _) => collect::<TimestampSecondType>(a, |v| v),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            collect::<TimestampMillisecondType>(a, |v| v)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            collect::<TimestampMicrosecondType>(a, |v| v)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            collect::<TimestampNanosecondType>(a, |v| v)
        }
        other => {
            return Err(ModelError::Data(format!(
                "time column {name} has type {other}; expected a timestamp, date or integer"
            )));
        }
    })
}

/// What the integers of a time column count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeKind {
    /// Plain integers (an order, no calendar).
    #[default]
    Integer,
    /// Days since 1970-01-01.
    Days,
    /// Seconds since 1970-01-01 00:00 UTC.
    Seconds,
    /// Milliseconds since the epoch.
    Milliseconds,
    /// Microseconds since the epoch.
    Microseconds,
    /// Nanoseconds since the epoch.
    Nanoseconds,
}

impl TimeKind {
    fn of(t: &DataType) -> TimeKind {
        match t {
            DataType::Date32 => TimeKind::Days,
            DataType::Timestamp(TimeUnit::Second, _) => TimeKind::Seconds,
            DataType::Timestamp(TimeUnit::Millisecond, _) => TimeKind::Milliseconds,
            DataType::Timestamp(TimeUnit::Microsecond, _) => TimeKind::Microseconds,
            DataType::Timestamp(TimeUnit::Nanosecond, _) => TimeKind::Nanoseconds,
            _ => TimeKind::Integer,
        }
    }

    /// A time value as people read it: a date, a UTC time or the integer.
    pub fn format(self, v: i64) -> String {
        let at = |secs: i64, nanos: u32| {
            chrono::DateTime::from_timestamp(secs, nanos).map_or_else(
                || v.to_string(),
                |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            )
        };
        match self {
            TimeKind::Integer => v.to_string(),
            TimeKind::Days => chrono::DateTime::from_timestamp(v.saturating_mul(86_400), 0)
                .map_or_else(|| v.to_string(), |t| t.format("%Y-%m-%d").to_string()),
            TimeKind::Seconds => at(v, 0),
            TimeKind::Milliseconds => at(v.div_euclid(1_000), 0),
            TimeKind::Microseconds => at(v.div_euclid(1_000_000), 0),
            TimeKind::Nanoseconds => at(v.div_euclid(1_000_000_000), 0),
        }
    }
}

/// Refuses split shares that are not all positive or do not add up to 1.
pub fn check_shares(shares: &[f64]) -> Result<(), ModelError> {
    let total: f64 = shares.iter().sum();
    if shares.iter().any(|s| s.is_nan() || *s <= 0.0) || (total - 1.0).abs() > 1e-9 {
        return Err(ModelError::parameter(
            "split",
            format!("shares {shares:?} must be positive and add up to 1"),
        ));
    }
    Ok(())
}

/// Labelled rows in time order, encoded for the models.
#[derive(Debug, Clone)]
pub struct TrainingTable {
    /// How the input columns were encoded.
    pub encoding: FeatureEncoding,
    /// Rows × features, in time order.
    pub x: Array2<f64>,
    /// Late (true) or not, per row.
    pub labels: Vec<bool>,
    /// The time of each row (the time column's integer value), ascending.
    pub time: Vec<i64>,
    /// What the time integers count.
    pub time_kind: TimeKind,
    /// Rows left out because their label (or time) is not known.
    pub unlabelled: usize,
}

impl TrainingTable {
    /// Reads labelled rows from batches: `label` is a boolean column, `time` orders the
    /// rows (the split is by time, never at random); every other column not in `skip`
    /// is a feature.
    pub fn from_batches(
        schema: &Schema,
        batches: &[RecordBatch],
        label: &str,
        time: &str,
        skip: &[&str],
    ) -> Result<TrainingTable, ModelError> {
        let mut leave_out: Vec<&str> = skip.to_vec();
        leave_out.extend([label, time]);
        for needed in [label, time] {
            if schema.field_with_name(needed).is_err() {
                return Err(ModelError::Data(format!(
                    "the table has no column {needed}"
                )));
            }
        }
        let encoding = FeatureEncoding::learn(schema, batches, &leave_out)?;
        TrainingTable::with_encoding(schema, batches, label, time, encoding)
    }

    /// Reads labelled rows encoded by a given encoding (a trained model's), to evaluate it
    /// on new rows.
    pub fn with_encoding(
        schema: &Schema,
        batches: &[RecordBatch],
        label: &str,
        time: &str,
        encoding: FeatureEncoding,
    ) -> Result<TrainingTable, ModelError> {
        for needed in [label, time] {
            if schema.field_with_name(needed).is_err() {
                return Err(ModelError::Data(format!(
                    "the table has no column {needed}"
                )));
            }
        }
        let time_kind = schema
            .field_with_name(time)
            .map_or(TimeKind::Integer, |f| TimeKind::of(f.data_type()));
        let mut parts = Vec::new();
        let mut rows: Vec<(i64, usize, usize, bool)> = Vec::new();
        let mut unlabelled = 0;
        for (b, batch) in batches.iter().enumerate() {
            let labels = batch
                .column_by_name(label)
                .filter(|c| c.data_type() == &DataType::Boolean)
                .ok_or_else(|| ModelError::Data(format!("label column {label} must be boolean")))?;
            let labels = labels.as_boolean();
            let times = times(
                batch
                    .column_by_name(time)
                    .ok_or_else(|| ModelError::Data(format!("the table has no column {time}")))?,
                time,
            )?;
            for (i, t) in times.into_iter().enumerate() {
                match (t, labels.is_null(i)) {
                    (Some(t), false) => rows.push((t, b, i, labels.value(i))),
                    _ => unlabelled += 1,
                }
            }
            parts.push(encoding.encode(batch)?);
        }
        rows.sort_by_key(|&(t, b, i, _)| (t, b, i));
        let mut x = Array2::<f64>::zeros((rows.len(), encoding.width()));
        for (mut out, &(_, b, i, _)) in x.rows_mut().into_iter().zip(&rows) {
            out.assign(&parts[b].row(i));
        }
        Ok(TrainingTable {
            encoding,
            x,
            labels: rows.iter().map(|r| r.3).collect(),
            time: rows.iter().map(|r| r.0).collect(),
            time_kind,
            unlabelled,
        })
    }

    /// Number of labelled rows.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }

    /// Splits the rows in time order into consecutive parts with the given shares (which
    /// add up to 1); a boundary never cuts rows of equal time apart.
    pub fn split_by_time(&self, shares: &[f64]) -> Result<Vec<Range<usize>>, ModelError> {
        check_shares(shares)?;
        let n = self.rows();
        let mut cuts = vec![0];
        let mut acc = 0.0;
        for s in &shares[..shares.len() - 1] {
            acc += s;
            let mut cut = ((acc * n as f64).round() as usize).clamp(*cuts.last().unwrap_or(&0), n);
            while cut > 0 && cut < n && self.time[cut] == self.time[cut - 1] {
                cut += 1;
            }
            cuts.push(cut);
        }
        cuts.push(n);
        let ranges: Vec<Range<usize>> = cuts.windows(2).map(|w| w[0]..w[1]).collect();
        if let Some(i) = ranges.iter().position(|r| r.is_empty()) {
            return Err(ModelError::Data(format!(
                "part {} of the time split is empty ({n} rows)",
                i + 1
            )));
        }
        Ok(ranges)
    }

    /// The rows at or after `time` (the table is in time order).
    pub fn from_time(&self, time: i64) -> Range<usize> {
        self.time.partition_point(|&t| t < time)..self.rows()
    }

    /// The features and labels of a range of rows.
    pub fn part(&self, rows: Range<usize>) -> (ArrayView2<'_, f64>, &[bool]) {
        (
            self.x.slice_axis(Axis(0), Slice::from(rows.clone())),
            &self.labels[rows],
        )
    }
}
