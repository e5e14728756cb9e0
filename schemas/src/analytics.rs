//! Arrow schemas of the analytics tables (`rollups`, `pain_points`,
//! `alerts`) and the conversion of their records into record batches and
//! back. The aggregator computes the records; this file is the table
//! contract, in the same conventions as `tables.rs`: `element` for list
//! items, timestamps in microseconds with zone `UTC`, and a `dt` partition
//! column where a table grows with time.
//!
//! Records are flat and table-shaped (strings, integers, floats, bytes) so
//! that this crate does not need to know the aggregator's types, and so that
//! a reader of the tables (the priority job reading `rollups` back, say) can
//! rebuild them with the `*_from_batch` functions.

use std::sync::{Arc, OnceLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Date32Array, Float64Array, Int32Array,
    Int64Array, ListArray, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, Schema, SchemaRef, TimeUnit,
    TimestampMicrosecondType,
};
use arrow::error::ArrowError;
use chrono::{DateTime, NaiveDate, Utc};

/// Name of the table of additive window rollups.
pub const ROLLUPS_TABLE: &str = "rollups";
/// Name of the table of per-window theme priorities.
pub const PAIN_POINTS_TABLE: &str = "pain_points";
/// Name of the table of alerts.
pub const ALERTS_TABLE: &str = "alerts";
/// `rollups` and `pain_points` are partitioned by the UTC date of
/// `window_start`, so a dashboard over a date range reads only those days.
pub const ANALYTICS_PARTITION_COLUMNS: &[&str] = &["dt"];

/// One row of `rollups`: additive measures of one window for one combination
/// of dimensions. Summing any subset of rows gives a correct total, except
/// for the sketch estimates, which are per row (merge the sketches instead).
#[derive(Debug, Clone, PartialEq)]
pub struct RollupRecord {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Window length as a label: `1h`, `1d`, `15m`, `90s`.
    pub grain: String,
    /// Rows for events that arrived after their window had closed.
    pub is_late_correction: bool,
    pub theme: String,
    pub category: String,
    pub stage: String,
    pub channel: String,
    pub kind: String,
    pub source: String,
    pub segment: String,
    pub messages: i64,
    pub analysed: i64,
    pub mentions: i64,
    pub negative: i64,
    pub neutral: i64,
    pub positive: i64,
    pub mixed: i64,
    pub complaints: i64,
    pub sentiment_sum: f64,
    pub negative_intensity_sum: f64,
    pub promoters: i64,
    pub passives: i64,
    pub detractors: i64,
    pub csat_responses: i64,
    pub csat_satisfied: i64,
    pub ces_sum: i64,
    pub ces_count: i64,
    pub sla_met: i64,
    pub sla_missed: i64,
    pub flag_churn_risk: i64,
    pub flag_escalation: i64,
    pub flag_safety: i64,
    pub flag_expectation_gap: i64,
    pub angry_or_frustrated: i64,
    pub customers_hll: Vec<u8>,
    pub customers_estimate: f64,
    pub negative_customers_hll: Vec<u8>,
    pub negative_customers_estimate: f64,
}

/// One row of `pain_points`: one theme's priority in one window.
#[derive(Debug, Clone, PartialEq)]
pub struct PainPointRecord {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub grain: String,
    pub theme: String,
    pub category: String,
    pub stage: String,
    pub messages: i64,
    pub complaints: i64,
    pub customers_estimate: f64,
    pub negative_customers_estimate: f64,
    pub message_share: f64,
    pub customer_share: f64,
    pub scope: f64,
    pub intensity: f64,
    pub emotion_rate: f64,
    pub flag_rate: f64,
    pub severity: f64,
    pub impact: f64,
    pub effort: i32,
    pub value_effort: f64,
    pub moscow: String,
    pub rank: i32,
    pub nps_responses: i64,
    pub nps_with_theme: Option<f64>,
    pub nps_driver_impact: Option<f64>,
}

/// One row of `alerts`, and the body of a `feedback.alerts` message.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertRecord {
    pub alert_id: String,
    pub kind: String,
    pub theme_id: Option<String>,
    pub channel: Option<String>,
    pub term: Option<String>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub observed: f64,
    pub expected: f64,
    pub score: f64,
    pub severity: String,
    pub example_message_ids: Vec<String>,
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, false)))
}

/// The measure columns of `rollups`, in order, all Int64 unless listed in
/// [`ROLLUP_FLOAT_MEASURES`].
const ROLLUP_INT_MEASURES: &[&str] = &[
    "messages",
    "analysed",
    "mentions",
    "negative",
    "neutral",
    "positive",
    "mixed",
    "complaints",
];
const ROLLUP_FLOAT_MEASURES: &[&str] = &["sentiment_sum", "negative_intensity_sum"];
const ROLLUP_INT_MEASURES_2: &[&str] = &[
    "promoters",
    "passives",
    "detractors",
    "csat_responses",
    "csat_satisfied",
    "ces_sum",
    "ces_count",
    "sla_met",
    "sla_missed",
    "flag_churn_risk",
    "flag_escalation",
    "flag_safety",
    "flag_expectation_gap",
    "angry_or_frustrated",
];
const ROLLUP_DIMENSIONS: &[&str] = &[
    "theme", "category", "stage", "channel", "kind", "source", "segment",
];

/// Schema of the `rollups` table.
pub fn rollups_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let mut fields = vec![
                Field::new("window_start", utc_micros(), false),
                Field::new("window_end", utc_micros(), false),
                Field::new("grain", DataType::Utf8, false),
                Field::new("is_late_correction", DataType::Boolean, false),
            ];
            fields.extend(
                ROLLUP_DIMENSIONS
                    .iter()
                    .map(|n| Field::new(*n, DataType::Utf8, false)),
            );
            fields.extend(
                ROLLUP_INT_MEASURES
                    .iter()
                    .map(|n| Field::new(*n, DataType::Int64, false)),
            );
            fields.extend(
                ROLLUP_FLOAT_MEASURES
                    .iter()
                    .map(|n| Field::new(*n, DataType::Float64, false)),
            );
            fields.extend(
                ROLLUP_INT_MEASURES_2
                    .iter()
                    .map(|n| Field::new(*n, DataType::Int64, false)),
            );
            fields.extend([
                Field::new("customers_hll", DataType::Binary, false),
                Field::new("customers_estimate", DataType::Float64, false),
                Field::new("negative_customers_hll", DataType::Binary, false),
                Field::new("negative_customers_estimate", DataType::Float64, false),
                Field::new("dt", DataType::Date32, false),
            ]);
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// Schema of the `pain_points` table.
pub fn pain_points_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("window_start", utc_micros(), false),
                Field::new("window_end", utc_micros(), false),
                Field::new("grain", DataType::Utf8, false),
                Field::new("theme", DataType::Utf8, false),
                Field::new("category", DataType::Utf8, false),
                Field::new("stage", DataType::Utf8, false),
                Field::new("messages", DataType::Int64, false),
                Field::new("complaints", DataType::Int64, false),
                Field::new("customers_estimate", DataType::Float64, false),
                Field::new("negative_customers_estimate", DataType::Float64, false),
                Field::new("message_share", DataType::Float64, false),
                Field::new("customer_share", DataType::Float64, false),
                Field::new("scope", DataType::Float64, false),
                Field::new("intensity", DataType::Float64, false),
                Field::new("emotion_rate", DataType::Float64, false),
                Field::new("flag_rate", DataType::Float64, false),
                Field::new("severity", DataType::Float64, false),
                Field::new("impact", DataType::Float64, false),
                Field::new("effort", DataType::Int32, false),
                Field::new("value_effort", DataType::Float64, false),
                Field::new("moscow", DataType::Utf8, false),
                Field::new("rank", DataType::Int32, false),
                Field::new("nps_responses", DataType::Int64, false),
                Field::new("nps_with_theme", DataType::Float64, true),
                Field::new("nps_driver_impact", DataType::Float64, true),
                Field::new("dt", DataType::Date32, false),
            ]))
        })
        .clone()
}

/// Schema of the `alerts` table.
pub fn alerts_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("alert_id", DataType::Utf8, false),
                Field::new("kind", DataType::Utf8, false),
                Field::new("theme_id", DataType::Utf8, true),
                Field::new("channel", DataType::Utf8, true),
                Field::new("term", DataType::Utf8, true),
                Field::new("window_start", utc_micros(), false),
                Field::new("window_end", utc_micros(), false),
                Field::new("observed", DataType::Float64, false),
                Field::new("expected", DataType::Float64, false),
                Field::new("score", DataType::Float64, false),
                Field::new("severity", DataType::Utf8, false),
                Field::new("example_message_ids", list_of(DataType::Utf8), false),
                Field::new("detail", DataType::Utf8, false),
                Field::new("created_at", utc_micros(), false),
            ]))
        })
        .clone()
}

fn days_since_epoch(t: DateTime<Utc>) -> i32 {
    (t.date_naive() - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn timestamps(values: impl Iterator<Item = DateTime<Utc>>) -> ArrayRef {
    Arc::new(
        TimestampMicrosecondArray::from_iter_values(values.map(|t| t.timestamp_micros()))
            .with_timezone("UTC"),
    )
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(values))
}

fn opt_strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn int64s(values: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(Int64Array::from_iter_values(values))
}

fn float64s(values: impl Iterator<Item = f64>) -> ArrayRef {
    Arc::new(Float64Array::from_iter_values(values))
}

fn dates(values: impl Iterator<Item = DateTime<Utc>>) -> ArrayRef {
    Arc::new(Date32Array::from_iter_values(values.map(days_since_epoch)))
}

/// Records → one `rollups` record batch (schema [`rollups_schema`]).
pub fn rollups_batch(rows: &[RollupRecord]) -> Result<RecordBatch, ArrowError> {
    let r = || rows.iter();
    let dims: [fn(&RollupRecord) -> &str; 7] = [
        |x| &x.theme,
        |x| &x.category,
        |x| &x.stage,
        |x| &x.channel,
        |x| &x.kind,
        |x| &x.source,
        |x| &x.segment,
    ];
    let ints_1: [fn(&RollupRecord) -> i64; 8] = [
        |x| x.messages,
        |x| x.analysed,
        |x| x.mentions,
        |x| x.negative,
        |x| x.neutral,
        |x| x.positive,
        |x| x.mixed,
        |x| x.complaints,
    ];
    let floats: [fn(&RollupRecord) -> f64; 2] = [|x| x.sentiment_sum, |x| x.negative_intensity_sum];
    let ints_2: [fn(&RollupRecord) -> i64; 14] = [
        |x| x.promoters,
        |x| x.passives,
        |x| x.detractors,
        |x| x.csat_responses,
        |x| x.csat_satisfied,
        |x| x.ces_sum,
        |x| x.ces_count,
        |x| x.sla_met,
        |x| x.sla_missed,
        |x| x.flag_churn_risk,
        |x| x.flag_escalation,
        |x| x.flag_safety,
        |x| x.flag_expectation_gap,
        |x| x.angry_or_frustrated,
    ];
    let mut columns: Vec<ArrayRef> = vec![
        timestamps(r().map(|x| x.window_start)),
        timestamps(r().map(|x| x.window_end)),
        strings(r().map(|x| x.grain.as_str())),
        Arc::new(
            r().map(|x| Some(x.is_late_correction))
                .collect::<BooleanArray>(),
        ),
    ];
    columns.extend(dims.iter().map(|f| strings(r().map(f))));
    columns.extend(ints_1.iter().map(|f| int64s(r().map(f))));
    columns.extend(floats.iter().map(|f| float64s(r().map(f))));
    columns.extend(ints_2.iter().map(|f| int64s(r().map(f))));
    columns.extend([
        Arc::new(BinaryArray::from_iter_values(
            r().map(|x| x.customers_hll.as_slice()),
        )) as ArrayRef,
        float64s(r().map(|x| x.customers_estimate)),
        Arc::new(BinaryArray::from_iter_values(
            r().map(|x| x.negative_customers_hll.as_slice()),
        )),
        float64s(r().map(|x| x.negative_customers_estimate)),
        dates(r().map(|x| x.window_start)),
    ]);
    RecordBatch::try_new(rollups_schema(), columns)
}

/// Records → one `pain_points` record batch (schema [`pain_points_schema`]).
pub fn pain_points_batch(rows: &[PainPointRecord]) -> Result<RecordBatch, ArrowError> {
    let r = || rows.iter();
    let columns: Vec<ArrayRef> = vec![
        timestamps(r().map(|x| x.window_start)),
        timestamps(r().map(|x| x.window_end)),
        strings(r().map(|x| x.grain.as_str())),
        strings(r().map(|x| x.theme.as_str())),
        strings(r().map(|x| x.category.as_str())),
        strings(r().map(|x| x.stage.as_str())),
        int64s(r().map(|x| x.messages)),
        int64s(r().map(|x| x.complaints)),
        float64s(r().map(|x| x.customers_estimate)),
        float64s(r().map(|x| x.negative_customers_estimate)),
        float64s(r().map(|x| x.message_share)),
        float64s(r().map(|x| x.customer_share)),
        float64s(r().map(|x| x.scope)),
        float64s(r().map(|x| x.intensity)),
        float64s(r().map(|x| x.emotion_rate)),
        float64s(r().map(|x| x.flag_rate)),
        float64s(r().map(|x| x.severity)),
        float64s(r().map(|x| x.impact)),
        Arc::new(Int32Array::from_iter_values(r().map(|x| x.effort))),
        float64s(r().map(|x| x.value_effort)),
        strings(r().map(|x| x.moscow.as_str())),
        Arc::new(Int32Array::from_iter_values(r().map(|x| x.rank))),
        int64s(r().map(|x| x.nps_responses)),
        Arc::new(r().map(|x| x.nps_with_theme).collect::<Float64Array>()),
        Arc::new(r().map(|x| x.nps_driver_impact).collect::<Float64Array>()),
        dates(r().map(|x| x.window_start)),
    ];
    RecordBatch::try_new(pain_points_schema(), columns)
}

/// Records → one `alerts` record batch (schema [`alerts_schema`]).
pub fn alerts_batch(rows: &[AlertRecord]) -> Result<RecordBatch, ArrowError> {
    let r = || rows.iter();
    let lengths: Vec<usize> = r().map(|x| x.example_message_ids.len()).collect();
    // flat_map has no exact size hint, which from_iter_values requires.
    let ids: Vec<&str> = r()
        .flat_map(|x| x.example_message_ids.iter().map(String::as_str))
        .collect();
    let ids = StringArray::from(ids);
    let examples = ListArray::try_new(
        Arc::new(Field::new("element", DataType::Utf8, false)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(ids),
        None,
    )?;
    let columns: Vec<ArrayRef> = vec![
        strings(r().map(|x| x.alert_id.as_str())),
        strings(r().map(|x| x.kind.as_str())),
        opt_strings(r().map(|x| x.theme_id.as_deref())),
        opt_strings(r().map(|x| x.channel.as_deref())),
        opt_strings(r().map(|x| x.term.as_deref())),
        timestamps(r().map(|x| x.window_start)),
        timestamps(r().map(|x| x.window_end)),
        float64s(r().map(|x| x.observed)),
        float64s(r().map(|x| x.expected)),
        float64s(r().map(|x| x.score)),
        strings(r().map(|x| x.severity.as_str())),
        Arc::new(examples),
        strings(r().map(|x| x.detail.as_str())),
        timestamps(r().map(|x| x.created_at)),
    ];
    RecordBatch::try_new(alerts_schema(), columns)
}

/// Typed column access by name for the `*_from_batch` readers; a missing
/// column or a wrong type is a schema error naming the column.
struct Columns<'a>(&'a RecordBatch);

impl<'a> Columns<'a> {
    fn get(&self, name: &str) -> Result<&'a ArrayRef, ArrowError> {
        self.0
            .column_by_name(name)
            .ok_or_else(|| ArrowError::SchemaError(format!("column `{name}` is missing")))
    }

    fn wrong(name: &str, want: &str) -> ArrowError {
        ArrowError::SchemaError(format!("column `{name}` is not {want}"))
    }

    fn string(&self, name: &str) -> Result<&'a StringArray, ArrowError> {
        self.get(name)?
            .as_string_opt::<i32>()
            .ok_or_else(|| Self::wrong(name, "Utf8"))
    }

    fn i64(&self, name: &str) -> Result<&'a Int64Array, ArrowError> {
        self.get(name)?
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| Self::wrong(name, "Int64"))
    }

    fn i32(&self, name: &str) -> Result<&'a Int32Array, ArrowError> {
        self.get(name)?
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| Self::wrong(name, "Int32"))
    }

    fn f64(&self, name: &str) -> Result<&'a Float64Array, ArrowError> {
        self.get(name)?
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| Self::wrong(name, "Float64"))
    }

    fn time(&self, name: &str) -> Result<&'a TimestampMicrosecondArray, ArrowError> {
        self.get(name)?
            .as_primitive_opt::<TimestampMicrosecondType>()
            .ok_or_else(|| Self::wrong(name, "Timestamp(Microsecond)"))
    }

    fn binary(&self, name: &str) -> Result<&'a BinaryArray, ArrowError> {
        self.get(name)?
            .as_binary_opt::<i32>()
            .ok_or_else(|| Self::wrong(name, "Binary"))
    }

    fn boolean(&self, name: &str) -> Result<&'a BooleanArray, ArrowError> {
        self.get(name)?
            .as_boolean_opt()
            .ok_or_else(|| Self::wrong(name, "Boolean"))
    }

    fn list(&self, name: &str) -> Result<&'a ListArray, ArrowError> {
        self.get(name)?
            .as_list_opt::<i32>()
            .ok_or_else(|| Self::wrong(name, "List"))
    }
}

fn utc(name: &str, micros: i64) -> Result<DateTime<Utc>, ArrowError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!("`{name}` {micros} is out of range"))
    })
}

fn opt_string(a: &StringArray, i: usize) -> Option<String> {
    a.is_valid(i).then(|| a.value(i).to_owned())
}

fn opt_f64(a: &Float64Array, i: usize) -> Option<f64> {
    a.is_valid(i).then(|| a.value(i))
}

/// A `rollups` batch → records (the `dt` column is derived, so ignored).
pub fn rollups_from_batch(batch: &RecordBatch) -> Result<Vec<RollupRecord>, ArrowError> {
    let c = Columns(batch);
    let (start, end) = (c.time("window_start")?, c.time("window_end")?);
    let (grain, late) = (c.string("grain")?, c.boolean("is_late_correction")?);
    let dims = ROLLUP_DIMENSIONS
        .iter()
        .map(|n| c.string(n))
        .collect::<Result<Vec<_>, _>>()?;
    let ints = ROLLUP_INT_MEASURES
        .iter()
        .chain(ROLLUP_INT_MEASURES_2)
        .map(|n| c.i64(n))
        .collect::<Result<Vec<_>, _>>()?;
    let floats = ROLLUP_FLOAT_MEASURES
        .iter()
        .map(|n| c.f64(n))
        .collect::<Result<Vec<_>, _>>()?;
    let (hll, est) = (c.binary("customers_hll")?, c.f64("customers_estimate")?);
    let (neg_hll, neg_est) = (
        c.binary("negative_customers_hll")?,
        c.f64("negative_customers_estimate")?,
    );
    (0..batch.num_rows())
        .map(|i| {
            let d = |k: usize| dims[k].value(i).to_owned();
            let n = |k: usize| ints[k].value(i);
            Ok(RollupRecord {
                window_start: utc("window_start", start.value(i))?,
                window_end: utc("window_end", end.value(i))?,
                grain: grain.value(i).to_owned(),
                is_late_correction: late.value(i),
                theme: d(0),
                category: d(1),
                stage: d(2),
                channel: d(3),
                kind: d(4),
                source: d(5),
                segment: d(6),
                messages: n(0),
                analysed: n(1),
                mentions: n(2),
                negative: n(3),
                neutral: n(4),
                positive: n(5),
                mixed: n(6),
                complaints: n(7),
                sentiment_sum: floats[0].value(i),
                negative_intensity_sum: floats[1].value(i),
                promoters: n(8),
                passives: n(9),
                detractors: n(10),
                csat_responses: n(11),
                csat_satisfied: n(12),
                ces_sum: n(13),
                ces_count: n(14),
                sla_met: n(15),
                sla_missed: n(16),
                flag_churn_risk: n(17),
                flag_escalation: n(18),
                flag_safety: n(19),
                flag_expectation_gap: n(20),
                angry_or_frustrated: n(21),
                customers_hll: hll.value(i).to_vec(),
                customers_estimate: est.value(i),
                negative_customers_hll: neg_hll.value(i).to_vec(),
                negative_customers_estimate: neg_est.value(i),
            })
        })
        .collect()
}

/// A `pain_points` batch → records.
pub fn pain_points_from_batch(batch: &RecordBatch) -> Result<Vec<PainPointRecord>, ArrowError> {
    let c = Columns(batch);
    let (start, end) = (c.time("window_start")?, c.time("window_end")?);
    let s = ["grain", "theme", "category", "stage", "moscow"]
        .iter()
        .map(|n| c.string(n))
        .collect::<Result<Vec<_>, _>>()?;
    let i = ["messages", "complaints", "nps_responses"]
        .iter()
        .map(|n| c.i64(n))
        .collect::<Result<Vec<_>, _>>()?;
    let f = [
        "customers_estimate",
        "negative_customers_estimate",
        "message_share",
        "customer_share",
        "scope",
        "intensity",
        "emotion_rate",
        "flag_rate",
        "severity",
        "impact",
        "value_effort",
        "nps_with_theme",
        "nps_driver_impact",
    ]
    .iter()
    .map(|n| c.f64(n))
    .collect::<Result<Vec<_>, _>>()?;
    let (effort, rank) = (c.i32("effort")?, c.i32("rank")?);
    (0..batch.num_rows())
        .map(|r| {
            Ok(PainPointRecord {
                window_start: utc("window_start", start.value(r))?,
                window_end: utc("window_end", end.value(r))?,
                grain: s[0].value(r).to_owned(),
                theme: s[1].value(r).to_owned(),
                category: s[2].value(r).to_owned(),
                stage: s[3].value(r).to_owned(),
                messages: i[0].value(r),
                complaints: i[1].value(r),
                customers_estimate: f[0].value(r),
                negative_customers_estimate: f[1].value(r),
                message_share: f[2].value(r),
                customer_share: f[3].value(r),
                scope: f[4].value(r),
                intensity: f[5].value(r),
                emotion_rate: f[6].value(r),
                flag_rate: f[7].value(r),
                severity: f[8].value(r),
                impact: f[9].value(r),
                effort: effort.value(r),
                value_effort: f[10].value(r),
                moscow: s[4].value(r).to_owned(),
                rank: rank.value(r),
                nps_responses: i[2].value(r),
                nps_with_theme: opt_f64(f[11], r),
                nps_driver_impact: opt_f64(f[12], r),
            })
        })
        .collect()
}

/// An `alerts` batch → records.
pub fn alerts_from_batch(batch: &RecordBatch) -> Result<Vec<AlertRecord>, ArrowError> {
    let c = Columns(batch);
    let (start, end, created) = (
        c.time("window_start")?,
        c.time("window_end")?,
        c.time("created_at")?,
    );
    let s = [
        "alert_id", "kind", "theme_id", "channel", "term", "severity", "detail",
    ]
    .iter()
    .map(|n| c.string(n))
    .collect::<Result<Vec<_>, _>>()?;
    let f = ["observed", "expected", "score"]
        .iter()
        .map(|n| c.f64(n))
        .collect::<Result<Vec<_>, _>>()?;
    let examples = c.list("example_message_ids")?;
    (0..batch.num_rows())
        .map(|r| {
            let ids = examples.value(r);
            let ids = ids
                .as_string_opt::<i32>()
                .ok_or_else(|| Columns::wrong("example_message_ids", "List<Utf8>"))?;
            Ok(AlertRecord {
                alert_id: s[0].value(r).to_owned(),
                kind: s[1].value(r).to_owned(),
                theme_id: opt_string(s[2], r),
                channel: opt_string(s[3], r),
                term: opt_string(s[4], r),
                window_start: utc("window_start", start.value(r))?,
                window_end: utc("window_end", end.value(r))?,
                observed: f[0].value(r),
                expected: f[1].value(r),
                score: f[2].value(r),
                severity: s[5].value(r).to_owned(),
                example_message_ids: ids.iter().flatten().map(str::to_owned).collect(),
                detail: s[6].value(r).to_owned(),
                created_at: utc("created_at", created.value(r))?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::Date32Type;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn rollup(theme: &str, late: bool, messages: i64) -> RollupRecord {
        RollupRecord {
            window_start: t("2026-11-03T23:00:00Z"),
            window_end: t("2026-11-04T00:00:00Z"),
            grain: "1h".into(),
            is_late_correction: late,
            theme: theme.into(),
            category: "process".into(),
            stage: "purchase".into(),
            channel: "app".into(),
            kind: "review".into(),
            source: "jd".into(),
            segment: "unknown".into(),
            messages,
            analysed: messages - 1,
            mentions: messages + 2,
            negative: 3,
            neutral: 4,
            positive: 5,
            mixed: 6,
            complaints: 7,
            sentiment_sum: -1.25,
            negative_intensity_sum: 2.5,
            promoters: 8,
            passives: 9,
            detractors: 10,
            csat_responses: 11,
            csat_satisfied: 12,
            ces_sum: 13,
            ces_count: 14,
            sla_met: 15,
            sla_missed: 16,
            flag_churn_risk: 17,
            flag_escalation: 18,
            flag_safety: 19,
            flag_expectation_gap: 20,
            angry_or_frustrated: 21,
            customers_hll: vec![1, 12, 0, 5, 3],
            customers_estimate: 1.0,
            negative_customers_hll: vec![],
            negative_customers_estimate: 0.0,
        }
    }

    #[test]
    fn rollups_round_trip_through_a_batch() {
        let rows = vec![rollup("delivery", false, 30), rollup("all", true, 2)];
        let batch = rollups_batch(&rows).unwrap();
        assert_eq!(batch.schema(), rollups_schema());
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(rollups_from_batch(&batch).unwrap(), rows);
        // Partitioned by the UTC date of the window start, not of its end.
        let dt = batch
            .column_by_name("dt")
            .unwrap()
            .as_primitive::<Date32Type>();
        assert_eq!(dt.value(0), days_since_epoch(t("2026-11-03T12:00:00Z")));
        let start = batch.column_by_name("window_start").unwrap();
        assert_eq!(start.data_type(), &utc_micros());
    }

    #[test]
    fn pain_points_round_trip_with_missing_nps() {
        let row = PainPointRecord {
            window_start: t("2026-11-03T00:00:00Z"),
            window_end: t("2026-11-04T00:00:00Z"),
            grain: "1d".into(),
            theme: "delivery".into(),
            category: "process".into(),
            stage: "purchase".into(),
            messages: 40,
            complaints: 12,
            customers_estimate: 38.2,
            negative_customers_estimate: 11.9,
            message_share: 0.1,
            customer_share: 0.12,
            scope: 0.11,
            intensity: 0.6,
            emotion_rate: 0.2,
            flag_rate: 0.05,
            severity: 0.5,
            impact: 5.5,
            effort: 3,
            value_effort: 1.83,
            moscow: "must".into(),
            rank: 1,
            nps_responses: 4,
            nps_with_theme: Some(-50.0),
            nps_driver_impact: None,
        };
        let batch = pain_points_batch(std::slice::from_ref(&row)).unwrap();
        assert_eq!(batch.schema(), pain_points_schema());
        assert!(batch
            .column_by_name("nps_driver_impact")
            .unwrap()
            .is_null(0));
        assert_eq!(pain_points_from_batch(&batch).unwrap(), vec![row]);
    }

    #[test]
    fn alerts_round_trip_with_example_lists() {
        let alert = |id: &str, examples: &[&str], term: Option<&str>| AlertRecord {
            alert_id: id.into(),
            kind: "new_term".into(),
            theme_id: None,
            channel: None,
            term: term.map(str::to_owned),
            window_start: t("2026-11-03T10:00:00Z"),
            window_end: t("2026-11-03T11:00:00Z"),
            observed: 12.0,
            expected: 0.4,
            score: 48.2,
            severity: "medium".into(),
            example_message_ids: examples.iter().map(|s| s.to_string()).collect(),
            detail: "鼓包 in 12 negative messages".into(),
            created_at: t("2026-11-03T11:00:05Z"),
        };
        let rows = vec![
            alert("a1", &["m1", "m2"], Some("鼓包")),
            alert("a2", &[], None),
        ];
        let batch = alerts_batch(&rows).unwrap();
        assert_eq!(batch.schema(), alerts_schema());
        let examples = batch
            .column_by_name("example_message_ids")
            .unwrap()
            .as_list::<i32>();
        assert_eq!((examples.value_length(0), examples.value_length(1)), (2, 0));
        assert!(batch.column_by_name("term").unwrap().is_null(1));
        assert_eq!(alerts_from_batch(&batch).unwrap(), rows);
    }

    #[test]
    fn a_batch_with_a_missing_column_is_refused_by_name() {
        let batch = alerts_batch(&[]).unwrap();
        let err = rollups_from_batch(&batch).unwrap_err();
        assert!(err.to_string().contains("`grain` is missing"), "{err}");
    }
}
