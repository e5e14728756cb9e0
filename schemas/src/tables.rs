//! Arrow schemas of the output tables and the conversion of rows into
//! record batches. The Delta tables are created from these schemas, so this
//! file *is* the output contract; README's table reference mirrors it.
//!
//! Nested names follow Delta's Arrow mapping (`element` for list items,
//! `key_value`/`key`/`value` for maps), so batches match the table schema
//! exactly and no cast happens on write.

use std::sync::{Arc, OnceLock};

use arrow::array::{
    ArrayRef, BinaryArray, Date32Array, Float64Array, Int32Array, Int64Array, ListArray, MapArray,
    RecordBatch, StringArray, StructArray, TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use chrono::{DateTime, NaiveDate, Utc};

use crate::rows::{DeadLetter, FeedbackRow, Provenance, ThemeMention};

/// Name of the table of accepted messages.
pub const FEEDBACK_TABLE: &str = "feedback";
/// Name of the table of rejected messages.
pub const DEAD_LETTERS_TABLE: &str = "dead_letters";
/// `feedback` is partitioned by event date so BI queries on a date range
/// read only those days' files.
pub const FEEDBACK_PARTITION_COLUMNS: &[&str] = &["dt"];

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn list_of(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", item, false)))
}

fn evidence_fields() -> Fields {
    Fields::from(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("start", DataType::Int32, false),
        Field::new("end", DataType::Int32, false),
    ])
}

fn theme_fields() -> Fields {
    Fields::from(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("stage", DataType::Utf8, false),
        Field::new("polarity", DataType::Utf8, false),
        Field::new(
            "evidence",
            list_of(DataType::Struct(evidence_fields())),
            false,
        ),
    ])
}

fn map_entries_field() -> Arc<Field> {
    Arc::new(Field::new(
        "key_value",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    ))
}

/// Schema of the `feedback` table.
pub fn feedback_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("id", DataType::Utf8, false),
                Field::new("kind", DataType::Utf8, false),
                Field::new("source", DataType::Utf8, false),
                Field::new("channel", DataType::Utf8, true),
                Field::new("lang", DataType::Utf8, true),
                Field::new("created_at", utc_micros(), false),
                Field::new("topic", DataType::Utf8, false),
                Field::new("partition", DataType::Int32, false),
                Field::new("offset", DataType::Int64, false),
                Field::new("text", DataType::Utf8, true),
                Field::new("script", DataType::Utf8, true),
                Field::new("sentiment_label", DataType::Utf8, true),
                Field::new("sentiment_score", DataType::Float64, true),
                Field::new("themes", list_of(DataType::Struct(theme_fields())), false),
                Field::new("flags", list_of(DataType::Utf8), false),
                Field::new("emotions", list_of(DataType::Utf8), false),
                Field::new("rating", DataType::Int32, true),
                Field::new("nps", DataType::Int32, true),
                Field::new("csat", DataType::Int32, true),
                Field::new("ces", DataType::Int32, true),
                Field::new("customer_id", DataType::Utf8, true),
                Field::new("segment", DataType::Utf8, true),
                Field::new("ticket_status", DataType::Utf8, true),
                Field::new("ticket_opened_at", utc_micros(), true),
                Field::new("ticket_first_response_at", utc_micros(), true),
                Field::new("ticket_resolved_at", utc_micros(), true),
                Field::new(
                    "attributes",
                    DataType::Map(map_entries_field(), false),
                    false,
                ),
                Field::new("ingested_at", utc_micros(), false),
                Field::new("dt", DataType::Date32, false),
            ]))
        })
        .clone()
}

/// Schema of the `dead_letters` table.
pub fn dead_letters_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            Arc::new(Schema::new(vec![
                Field::new("topic", DataType::Utf8, false),
                Field::new("partition", DataType::Int32, false),
                Field::new("offset", DataType::Int64, false),
                Field::new("reason", DataType::Utf8, false),
                Field::new("field", DataType::Utf8, true),
                Field::new("detail", DataType::Utf8, false),
                Field::new("key", DataType::Binary, true),
                Field::new("payload", DataType::Binary, false),
                Field::new("received_at", utc_micros(), false),
            ]))
        })
        .clone()
}

/// The event date (UTC) a row is partitioned under.
pub fn event_date(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

fn days_since_epoch(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(values.collect::<StringArray>())
}

fn ints(values: impl Iterator<Item = Option<u8>>) -> ArrayRef {
    Arc::new(values.map(|v| v.map(i32::from)).collect::<Int32Array>())
}

fn timestamps(values: impl Iterator<Item = Option<DateTime<Utc>>>) -> ArrayRef {
    Arc::new(
        values
            .map(|t| t.map(micros))
            .collect::<TimestampMicrosecondArray>()
            .with_timezone("UTC"),
    )
}

/// A `list<string>` column from one list per row.
fn string_lists<'a>(rows: impl Iterator<Item = &'a [String]>) -> Result<ArrayRef, ArrowError> {
    let mut lengths = Vec::new();
    let mut values = Vec::new();
    for list in rows {
        lengths.push(list.len());
        values.extend(list.iter().map(String::as_str));
    }
    let field = Arc::new(Field::new("element", DataType::Utf8, false));
    let values: ArrayRef = Arc::new(StringArray::from(values));
    Ok(Arc::new(ListArray::try_new(
        field,
        OffsetBuffer::from_lengths(lengths),
        values,
        None,
    )?))
}

fn themes_column<'a>(
    rows: impl Iterator<Item = &'a [ThemeMention]>,
) -> Result<ArrayRef, ArrowError> {
    let mut theme_lengths = Vec::new();
    let (mut ids, mut categories, mut stages, mut polarities) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut evidence_lengths = Vec::new();
    let (mut texts, mut starts, mut ends) = (Vec::new(), Vec::new(), Vec::new());
    for themes in rows {
        theme_lengths.push(themes.len());
        for t in themes {
            ids.push(t.id.as_str());
            categories.push(t.category.as_str());
            stages.push(t.stage.as_str());
            polarities.push(t.polarity.as_str());
            evidence_lengths.push(t.evidence.len());
            for e in &t.evidence {
                texts.push(e.text.as_str());
                starts.push(e.start as i32);
                ends.push(e.end as i32);
            }
        }
    }
    let evidence = StructArray::try_new(
        evidence_fields(),
        vec![
            Arc::new(StringArray::from(texts)),
            Arc::new(Int32Array::from(starts)),
            Arc::new(Int32Array::from(ends)),
        ],
        None,
    )?;
    let evidence_field = Arc::new(Field::new(
        "element",
        DataType::Struct(evidence_fields()),
        false,
    ));
    let evidence_lists = ListArray::try_new(
        evidence_field,
        OffsetBuffer::from_lengths(evidence_lengths),
        Arc::new(evidence),
        None,
    )?;
    let themes = StructArray::try_new(
        theme_fields(),
        vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(StringArray::from(categories)),
            Arc::new(StringArray::from(stages)),
            Arc::new(StringArray::from(polarities)),
            Arc::new(evidence_lists),
        ],
        None,
    )?;
    let theme_field = Arc::new(Field::new(
        "element",
        DataType::Struct(theme_fields()),
        false,
    ));
    Ok(Arc::new(ListArray::try_new(
        theme_field,
        OffsetBuffer::from_lengths(theme_lengths),
        Arc::new(themes),
        None,
    )?))
}

fn attributes_column(rows: &[FeedbackRow]) -> Result<ArrayRef, ArrowError> {
    let mut lengths = Vec::with_capacity(rows.len());
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for row in rows {
        lengths.push(row.feedback.attributes.len());
        for (k, v) in &row.feedback.attributes {
            keys.push(k.as_str());
            values.push(Some(v.as_str()));
        }
    }
    let DataType::Struct(entry_fields) = map_entries_field().data_type().clone() else {
        unreachable!("map entries are a struct");
    };
    let entries = StructArray::try_new(
        entry_fields,
        vec![
            Arc::new(StringArray::from(keys)),
            Arc::new(StringArray::from(values)),
        ],
        None,
    )?;
    Ok(Arc::new(MapArray::try_new(
        map_entries_field(),
        OffsetBuffer::from_lengths(lengths),
        entries,
        None::<NullBuffer>,
        false,
    )?))
}

/// The `topic`, `partition` and `offset` columns every table carries.
fn provenance_columns<'a>(
    provenance: impl Iterator<Item = &'a Provenance> + Clone,
) -> [ArrayRef; 3] {
    [
        strings(provenance.clone().map(|p| Some(p.topic.as_str()))),
        Arc::new(
            provenance
                .clone()
                .map(|p| p.partition)
                .collect::<Int32Array>(),
        ),
        Arc::new(provenance.map(|p| p.offset).collect::<Int64Array>()),
    ]
}

/// Rows → one `feedback` record batch (schema [`feedback_schema`]).
pub fn feedback_batch(rows: &[FeedbackRow]) -> Result<RecordBatch, ArrowError> {
    let fb = || rows.iter().map(|r| &r.feedback);
    let an = || rows.iter().map(|r| r.analysis.as_ref());
    let no_strings: &[String] = &[];
    let no_themes: &[ThemeMention] = &[];
    let [topic, partition, offset] = provenance_columns(rows.iter().map(|r| &r.provenance));
    let columns: Vec<ArrayRef> = vec![
        strings(fb().map(|f| Some(f.id.as_str()))),
        strings(fb().map(|f| Some(f.kind.as_str()))),
        strings(fb().map(|f| Some(f.source.as_str()))),
        strings(fb().map(|f| f.channel.as_deref())),
        strings(fb().map(|f| f.lang.as_deref())),
        timestamps(fb().map(|f| Some(f.created_at))),
        topic,
        partition,
        offset,
        strings(fb().map(|f| f.text.as_deref())),
        strings(an().map(|a| a.map(|a| a.script.as_str()))),
        strings(an().map(|a| a.map(|a| a.sentiment_label.as_str()))),
        Arc::new(
            an().map(|a| a.map(|a| a.sentiment_score))
                .collect::<Float64Array>(),
        ),
        themes_column(an().map(|a| a.map_or(no_themes, |a| a.themes.as_slice())))?,
        string_lists(an().map(|a| a.map_or(no_strings, |a| a.flags.as_slice())))?,
        string_lists(an().map(|a| a.map_or(no_strings, |a| a.emotions.as_slice())))?,
        ints(fb().map(|f| f.rating)),
        ints(fb().map(|f| f.survey.as_ref().and_then(|s| s.nps))),
        ints(fb().map(|f| f.survey.as_ref().and_then(|s| s.csat))),
        ints(fb().map(|f| f.survey.as_ref().and_then(|s| s.ces))),
        strings(fb().map(|f| f.customer.as_ref().and_then(|c| c.id.as_deref()))),
        strings(fb().map(|f| {
            f.customer
                .as_ref()
                .and_then(|c| c.segment)
                .map(|s| s.as_str())
        })),
        strings(fb().map(|f| f.ticket.as_ref().and_then(|t| t.status.as_deref()))),
        timestamps(fb().map(|f| f.ticket.as_ref().and_then(|t| t.opened_at))),
        timestamps(fb().map(|f| f.ticket.as_ref().and_then(|t| t.first_response_at))),
        timestamps(fb().map(|f| f.ticket.as_ref().and_then(|t| t.resolved_at))),
        attributes_column(rows)?,
        timestamps(rows.iter().map(|r| Some(r.ingested_at))),
        Arc::new(Date32Array::from_iter_values(
            fb().map(|f| days_since_epoch(event_date(f.created_at))),
        )),
    ];
    RecordBatch::try_new(feedback_schema(), columns)
}

/// Dead letters → one `dead_letters` record batch (schema [`dead_letters_schema`]).
pub fn dead_letters_batch(rows: &[DeadLetter]) -> Result<RecordBatch, ArrowError> {
    let [topic, partition, offset] = provenance_columns(rows.iter().map(|r| &r.provenance));
    let columns: Vec<ArrayRef> = vec![
        topic,
        partition,
        offset,
        strings(rows.iter().map(|r| Some(r.rejection.reason.as_str()))),
        strings(rows.iter().map(|r| r.rejection.field.as_deref())),
        strings(rows.iter().map(|r| Some(r.rejection.detail.as_str()))),
        Arc::new(
            rows.iter()
                .map(|r| r.key.as_deref())
                .collect::<BinaryArray>(),
        ),
        Arc::new(BinaryArray::from_iter_values(
            rows.iter().map(|r| r.payload.as_slice()),
        )),
        timestamps(rows.iter().map(|r| Some(r.received_at))),
    ];
    RecordBatch::try_new(dead_letters_schema(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, DecodeLimits, Reason, Rejection};
    use crate::rows::{Analysis, Evidence, Provenance};
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int32Type;

    fn row(json: &str, offset: i64, analysis: Option<Analysis>) -> FeedbackRow {
        let now = "2026-11-20T00:00:00Z".parse().unwrap();
        FeedbackRow {
            feedback: decode(json.as_bytes(), &DecodeLimits::default(), now).unwrap(),
            analysis,
            provenance: Provenance {
                topic: "feedback.reviews".into(),
                partition: 2,
                offset,
            },
            ingested_at: now,
        }
    }

    fn analysis() -> Analysis {
        let mention = |id: &str, polarity: &str, text: &str, start| ThemeMention {
            id: id.into(),
            category: "process".into(),
            stage: "purchase".into(),
            polarity: polarity.into(),
            evidence: vec![Evidence {
                text: text.into(),
                start,
                end: start + 2,
            }],
        };
        Analysis {
            script: "hans".into(),
            sentiment_label: "mixed".into(),
            sentiment_score: -0.25,
            themes: vec![
                mention("delivery", "positive", "物流", 0),
                mention("customer_service", "negative", "客服", 7),
            ],
            flags: vec![],
            emotions: vec!["anger".into()],
        }
    }

    #[test]
    fn feedback_rows_become_a_batch_with_nested_themes() {
        let rows = vec![
            row(
                r#"{"id":"a","kind":"review","created_at":"2026-11-03T23:30:00-02:00","source":"jd","text":"物流很快，但是客服态度很差","rating":2,"attributes":{"city":"上海","sku":"X"}}"#,
                10,
                Some(analysis()),
            ),
            row(
                r#"{"id":"b","kind":"survey","created_at":"2026-11-03T00:00:00Z","source":"s","survey":{"nps":10}}"#,
                11,
                None,
            ),
        ];
        let batch = feedback_batch(&rows).unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), feedback_schema());

        let themes = batch.column_by_name("themes").unwrap().as_list::<i32>();
        assert_eq!(themes.value_length(0), 2);
        assert_eq!(themes.value_length(1), 0);
        let first = themes.value(0);
        let first = first.as_struct();
        assert_eq!(
            first
                .column_by_name("id")
                .unwrap()
                .as_string::<i32>()
                .value(1),
            "customer_service"
        );
        let evidence = first
            .column_by_name("evidence")
            .unwrap()
            .as_list::<i32>()
            .value(1);
        let evidence = evidence.as_struct();
        assert_eq!(
            evidence
                .column_by_name("text")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "客服"
        );
        assert_eq!(
            evidence
                .column_by_name("start")
                .unwrap()
                .as_primitive::<Int32Type>()
                .value(0),
            7
        );

        // Partitioned by the UTC event date: 23:30 at -02:00 is the next day in UTC.
        let dt = batch
            .column_by_name("dt")
            .unwrap()
            .as_primitive::<arrow::datatypes::Date32Type>();
        assert_eq!(
            dt.value(0),
            days_since_epoch(NaiveDate::from_ymd_opt(2026, 11, 4).unwrap())
        );

        let sentiment = batch.column_by_name("sentiment_label").unwrap();
        assert!(
            sentiment.is_null(1),
            "a survey without text has no text analysis"
        );
        let nps = batch
            .column_by_name("nps")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert_eq!((nps.is_null(0), nps.value(1)), (true, 10));
        let attributes = batch.column_by_name("attributes").unwrap().as_map();
        assert_eq!(attributes.value_length(0), 2);
        assert_eq!(attributes.keys().as_string::<i32>().value(0), "city");
    }

    #[test]
    fn dead_letters_keep_the_original_bytes() {
        let dl = DeadLetter {
            provenance: Provenance {
                topic: "t".into(),
                partition: 0,
                offset: 5,
            },
            rejection: Rejection {
                reason: Reason::InvalidUtf8,
                field: None,
                detail: "d".into(),
            },
            key: None,
            payload: vec![0xff, 0x00, 0x7b],
            received_at: "2026-11-20T00:00:00Z".parse().unwrap(),
        };
        let batch = dead_letters_batch(&[dl]).unwrap();
        assert_eq!(batch.schema(), dead_letters_schema());
        assert_eq!(
            batch
                .column_by_name("payload")
                .unwrap()
                .as_binary::<i32>()
                .value(0),
            &[0xff, 0x00, 0x7b]
        );
        assert_eq!(
            batch
                .column_by_name("reason")
                .unwrap()
                .as_string::<i32>()
                .value(0),
            "invalid_utf8"
        );
        assert!(batch.column_by_name("key").unwrap().is_null(0));
    }
}
