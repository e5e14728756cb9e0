//! Bytes → [`Feedback`], or a [`Rejection`] that says which rule the message
//! broke and names the field. Pure: the clock comes in as an argument so the
//! "absurdly in the future" rule is testable.
//!
//! Validation walks a `serde_json::Value` by hand rather than deriving
//! `Deserialize`, because serde's errors cannot tell a missing field from a
//! wrongly typed one, and producers need to know which it was.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::{Customer, Feedback, Kind, Segment, Survey, Ticket};

/// Why a message became a dead letter. The string codes are part of the
/// `dead_letters` table contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The payload is not UTF-8.
    InvalidUtf8,
    /// The payload is not JSON.
    InvalidJson,
    /// JSON nested deeper than the parser allows.
    TooDeep,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A required field is absent, null or empty.
    MissingField,
    /// A field has the wrong JSON type.
    BadType,
    /// A field has the right type but a value outside the contract.
    BadValue,
    /// The message or one of its fields is over its size limit.
    TooLarge,
    /// A key the contract does not know.
    UnknownField,
    /// The payload is empty or the Kafka message has no value (a tombstone).
    EmptyMessage,
}

impl Reason {
    pub const ALL: [Reason; 10] = [
        Reason::InvalidUtf8,
        Reason::InvalidJson,
        Reason::TooDeep,
        Reason::NotAnObject,
        Reason::MissingField,
        Reason::BadType,
        Reason::BadValue,
        Reason::TooLarge,
        Reason::UnknownField,
        Reason::EmptyMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InvalidUtf8 => "invalid_utf8",
            Reason::InvalidJson => "invalid_json",
            Reason::TooDeep => "too_deep",
            Reason::NotAnObject => "not_an_object",
            Reason::MissingField => "missing_field",
            Reason::BadType => "bad_type",
            Reason::BadValue => "bad_value",
            Reason::TooLarge => "too_large",
            Reason::UnknownField => "unknown_field",
            Reason::EmptyMessage => "empty_message",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A contract violation: machine-readable reason, the field's JSON path when
/// there is one, and a sentence for humans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub reason: Reason,
    pub field: Option<String>,
    pub detail: String,
}

impl Rejection {
    fn new(reason: Reason, field: Option<&str>, detail: impl Into<String>) -> Self {
        Rejection {
            reason,
            field: field.map(str::to_owned),
            detail: detail.into(),
        }
    }

    fn at(reason: Reason, field: &str, detail: impl Into<String>) -> Self {
        Rejection::new(reason, Some(field), detail)
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason, self.detail)
    }
}

impl std::error::Error for Rejection {}

/// Size and sanity limits of the contract. Defaults are the documented ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecodeLimits {
    /// Largest accepted message, in bytes. Default 1048576 (1 MiB).
    pub max_message_bytes: usize,
    /// Largest accepted `text`, in bytes of UTF-8. Default 65536 (64 KiB).
    pub max_text_bytes: usize,
    /// How far `created_at` may lie ahead of the worker's clock, in seconds,
    /// before the message is rejected. Default 86400 (one day).
    pub max_future_secs: i64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_message_bytes: 1 << 20,
            max_text_bytes: 64 << 10,
            max_future_secs: 86_400,
        }
    }
}

const MAX_ID_CHARS: usize = 128;
const MAX_SHORT_CHARS: usize = 128;
const MAX_ATTRIBUTES: usize = 100;
const MAX_ATTRIBUTE_VALUE_CHARS: usize = 1024;

const TOP_LEVEL_KEYS: &[&str] = &[
    "id",
    "kind",
    "created_at",
    "source",
    "text",
    "channel",
    "lang",
    "customer",
    "rating",
    "survey",
    "ticket",
    "attributes",
];

/// Decode one message against the input contract.
pub fn decode(
    payload: &[u8],
    limits: &DecodeLimits,
    now: DateTime<Utc>,
) -> Result<Feedback, Rejection> {
    if payload.is_empty() {
        return Err(Rejection::new(
            Reason::EmptyMessage,
            None,
            "the message has no payload",
        ));
    }
    if payload.len() > limits.max_message_bytes {
        return Err(Rejection::new(
            Reason::TooLarge,
            None,
            format!(
                "message is {} bytes, over the {}-byte limit",
                payload.len(),
                limits.max_message_bytes
            ),
        ));
    }
    let text = std::str::from_utf8(payload).map_err(|e| {
        Rejection::new(
            Reason::InvalidUtf8,
            None,
            format!(
                "payload is not UTF-8: invalid byte at offset {}",
                e.valid_up_to()
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("recursion limit") {
            Rejection::new(
                Reason::TooDeep,
                None,
                format!("JSON is nested too deeply ({msg})"),
            )
        } else {
            Rejection::new(Reason::InvalidJson, None, format!("not valid JSON: {msg}"))
        }
    })?;
    let Value::Object(map) = value else {
        return Err(Rejection::new(
            Reason::NotAnObject,
            None,
            format!("expected a JSON object, got {}", json_type(&value)),
        ));
    };
    decode_object(&map, limits, now)
}

fn decode_object(
    map: &Map<String, Value>,
    limits: &DecodeLimits,
    now: DateTime<Utc>,
) -> Result<Feedback, Rejection> {
    let obj = Obj { map, prefix: "" };
    obj.deny_unknown(TOP_LEVEL_KEYS)?;

    let id = obj.required_str("id", MAX_ID_CHARS)?;
    let kind_str = obj.required_str("kind", MAX_SHORT_CHARS)?;
    let kind = Kind::parse(kind_str).ok_or_else(|| {
        Rejection::at(
            Reason::BadValue,
            "kind",
            format!("kind `{kind_str}` is not one of review, ticket, survey, social"),
        )
    })?;
    let created_at = obj
        .timestamp("created_at")?
        .ok_or_else(|| missing("created_at"))?;
    let horizon = now + Duration::seconds(limits.max_future_secs);
    if created_at > horizon {
        return Err(Rejection::at(
            Reason::BadValue,
            "created_at",
            format!(
                "created_at {} lies more than {} s after the worker's clock ({})",
                created_at.to_rfc3339(),
                limits.max_future_secs,
                now.to_rfc3339()
            ),
        ));
    }
    let source = obj.required_str("source", MAX_SHORT_CHARS)?.to_owned();
    let channel = obj
        .optional_str("channel", MAX_SHORT_CHARS)?
        .map(str::to_owned);
    let lang = obj.optional_str("lang", 35)?.map(str::to_owned);
    let rating = obj.optional_int("rating", 1, 5)?;
    let customer = obj
        .optional_object("customer")?
        .map(decode_customer)
        .transpose()?;
    let survey = obj
        .optional_object("survey")?
        .map(decode_survey)
        .transpose()?;
    let ticket = obj
        .optional_object("ticket")?
        .map(decode_ticket)
        .transpose()?;
    let attributes = match obj.optional_object("attributes")? {
        Some(attrs) => decode_attributes(attrs)?,
        None => BTreeMap::new(),
    };

    let text = decode_text(&obj, limits)?;
    let scored_survey = kind == Kind::Survey && survey.as_ref().is_some_and(Survey::has_scores);
    if text.is_none() && !scored_survey {
        return Err(Rejection::at(
            Reason::MissingField,
            "text",
            format!(
                "a {} needs non-empty text (only a survey with scores may omit it)",
                kind.as_str()
            ),
        ));
    }

    Ok(Feedback {
        id: id.to_owned(),
        kind,
        created_at,
        source,
        text,
        channel,
        lang,
        customer,
        rating,
        survey,
        ticket,
        attributes,
    })
}

/// `Ok(None)` for absent, null or blank text; the caller decides whether the
/// kind allows that.
fn decode_text(obj: &Obj<'_>, limits: &DecodeLimits) -> Result<Option<String>, Rejection> {
    let Some(value) = obj.get("text") else {
        return Ok(None);
    };
    let Value::String(text) = value else {
        return Err(bad_type("text", "a string", value));
    };
    if text.len() > limits.max_text_bytes {
        return Err(Rejection::at(
            Reason::TooLarge,
            "text",
            format!(
                "text is {} bytes, over the {}-byte limit",
                text.len(),
                limits.max_text_bytes
            ),
        ));
    }
    check_no_controls("text", text, true)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(text.clone()))
}

fn decode_customer(map: &Map<String, Value>) -> Result<Customer, Rejection> {
    let obj = Obj {
        map,
        prefix: "customer.",
    };
    obj.deny_unknown(&["id", "segment"])?;
    let id = obj.optional_str("id", MAX_ID_CHARS)?.map(str::to_owned);
    let segment = match obj.optional_str("segment", MAX_SHORT_CHARS)? {
        Some(s) => Some(Segment::parse(s).ok_or_else(|| {
            Rejection::at(
                Reason::BadValue,
                "customer.segment",
                format!("customer.segment `{s}` is not one of new, returning, high_value, at_risk"),
            )
        })?),
        None => None,
    };
    Ok(Customer { id, segment })
}

fn decode_survey(map: &Map<String, Value>) -> Result<Survey, Rejection> {
    let obj = Obj {
        map,
        prefix: "survey.",
    };
    obj.deny_unknown(&["nps", "csat", "ces"])?;
    Ok(Survey {
        nps: obj.optional_int("nps", 0, 10)?,
        csat: obj.optional_int("csat", 1, 5)?,
        ces: obj.optional_int("ces", 1, 7)?,
    })
}

fn decode_ticket(map: &Map<String, Value>) -> Result<Ticket, Rejection> {
    let obj = Obj {
        map,
        prefix: "ticket.",
    };
    obj.deny_unknown(&["opened_at", "first_response_at", "resolved_at", "status"])?;
    Ok(Ticket {
        opened_at: obj.timestamp("opened_at")?,
        first_response_at: obj.timestamp("first_response_at")?,
        resolved_at: obj.timestamp("resolved_at")?,
        status: obj
            .optional_str("status", MAX_SHORT_CHARS)?
            .map(str::to_owned),
    })
}

fn decode_attributes(map: &Map<String, Value>) -> Result<BTreeMap<String, String>, Rejection> {
    if map.len() > MAX_ATTRIBUTES {
        return Err(Rejection::at(
            Reason::TooLarge,
            "attributes",
            format!(
                "{} attributes, over the limit of {MAX_ATTRIBUTES}",
                map.len()
            ),
        ));
    }
    let mut out = BTreeMap::new();
    for (key, value) in map {
        let path = format!("attributes.{key}");
        let Value::String(s) = value else {
            return Err(bad_type(&path, "a string", value));
        };
        if key.chars().count() > MAX_SHORT_CHARS || s.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
            return Err(Rejection::at(
                Reason::TooLarge,
                &path,
                format!(
                    "attribute keys may have {MAX_SHORT_CHARS} characters and values {MAX_ATTRIBUTE_VALUE_CHARS}"
                ),
            ));
        }
        check_no_controls(&path, s, false)?;
        out.insert(key.clone(), s.clone());
    }
    Ok(out)
}

/// A view of one JSON object that knows its path, so every error can name
/// the full field (`survey.nps`, not just `nps`).
struct Obj<'a> {
    map: &'a Map<String, Value>,
    prefix: &'static str,
}

impl<'a> Obj<'a> {
    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Absent and `null` mean the same: no value.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn deny_unknown(&self, known: &[&str]) -> Result<(), Rejection> {
        match self.map.keys().find(|k| !known.contains(&k.as_str())) {
            Some(key) => Err(Rejection::at(
                Reason::UnknownField,
                &self.path(key),
                format!(
                    "unknown field `{}`; the contract allows {}",
                    self.path(key),
                    known.join(", ")
                ),
            )),
            None => Ok(()),
        }
    }

    fn required_str(&self, key: &str, max_chars: usize) -> Result<&'a str, Rejection> {
        match self.optional_str(key, max_chars)? {
            Some(s) => Ok(s),
            None => Err(missing(&self.path(key))),
        }
    }

    /// Blank strings count as absent: an empty `id` is a missing id.
    fn optional_str(&self, key: &str, max_chars: usize) -> Result<Option<&'a str>, Rejection> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path(key);
        let Value::String(s) = value else {
            return Err(bad_type(&path, "a string", value));
        };
        if s.trim().is_empty() {
            return Ok(None);
        }
        let chars = s.chars().count();
        if chars > max_chars {
            return Err(Rejection::at(
                Reason::TooLarge,
                &path,
                format!("{path} has {chars} characters, over the limit of {max_chars}"),
            ));
        }
        check_no_controls(&path, s, false)?;
        Ok(Some(s))
    }

    fn optional_int(&self, key: &str, min: u8, max: u8) -> Result<Option<u8>, Rejection> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path(key);
        let n = match value {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| bad_type(&path, "an integer", value))?,
            _ => return Err(bad_type(&path, "an integer", value)),
        };
        if n < i64::from(min) || n > i64::from(max) {
            return Err(Rejection::at(
                Reason::BadValue,
                &path,
                format!("{path} is {n}, outside {min}–{max}"),
            ));
        }
        Ok(Some(n as u8))
    }

    fn optional_object(&self, key: &str) -> Result<Option<&'a Map<String, Value>>, Rejection> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(other) => Err(bad_type(&self.path(key), "an object", other)),
        }
    }

    fn timestamp(&self, key: &str) -> Result<Option<DateTime<Utc>>, Rejection> {
        let Some(s) = self.optional_str(key, 64)? else {
            return Ok(None);
        };
        let path = self.path(key);
        DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                Rejection::at(
                    Reason::BadValue,
                    &path,
                    format!(
                        "{path} `{s}` is not an RFC 3339 timestamp such as 2026-11-03T10:00:00+08:00 ({e})"
                    ),
                )
            })
    }
}

fn missing(path: &str) -> Rejection {
    Rejection::at(
        Reason::MissingField,
        path,
        format!("required field `{path}` is missing or empty"),
    )
}

fn bad_type(path: &str, expected: &str, got: &Value) -> Rejection {
    Rejection::at(
        Reason::BadType,
        path,
        format!("{path} must be {expected}, got {}", json_type(got)),
    )
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// NUL and other C0 controls break downstream tools (CSV exports, terminals,
/// some BI drivers), so they are refused at the door. Free text may keep
/// tabs and line breaks.
fn check_no_controls(path: &str, s: &str, allow_whitespace: bool) -> Result<(), Rejection> {
    let bad = s.chars().enumerate().find(|&(_, c)| {
        let allowed = allow_whitespace && matches!(c, '\t' | '\n' | '\r');
        c.is_control() && !allowed
    });
    match bad {
        Some((at, c)) => Err(Rejection::at(
            Reason::BadValue,
            path,
            format!(
                "{path} contains the control character U+{:04X} at character {at}",
                c as u32
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-20T00:00:00Z".parse().unwrap()
    }

    fn ok(json: &str) -> Feedback {
        decode(json.as_bytes(), &DecodeLimits::default(), now()).expect("valid")
    }

    fn err(bytes: &[u8], limits: &DecodeLimits) -> Rejection {
        decode(bytes, limits, now()).expect_err("invalid")
    }

    #[test]
    fn event_time_is_normalised_to_utc() {
        let f = ok(
            r#"{"id":"a","kind":"review","created_at":"2026-11-03T08:00:00+08:00","source":"jd","text":"好"}"#,
        );
        assert_eq!(f.created_at.to_rfc3339(), "2026-11-03T00:00:00+00:00");
    }

    #[test]
    fn fields_land_in_their_places() {
        let f = ok(
            r#"{"id":"a","kind":"survey","created_at":"2026-11-03T00:00:00Z","source":"s",
            "survey":{"nps":9,"csat":4},"customer":{"id":"c","segment":"at_risk"},"attributes":{"k":"v"}}"#,
        );
        assert_eq!(f.kind, Kind::Survey);
        assert_eq!(f.text, None);
        let s = f.survey.unwrap();
        assert_eq!((s.nps, s.csat, s.ces), (Some(9), Some(4), None));
        assert_eq!(f.customer.unwrap().segment, Some(Segment::AtRisk));
        assert_eq!(f.attributes.get("k").map(String::as_str), Some("v"));
    }

    #[test]
    fn invalid_utf8_names_the_offset() {
        let e = err(b"{\"id\":\"\xff\"}", &DecodeLimits::default());
        assert_eq!(e.reason, Reason::InvalidUtf8);
        assert!(e.detail.contains("offset 7"), "{e}");
    }

    #[test]
    fn oversized_message_is_refused_before_parsing() {
        let limits = DecodeLimits {
            max_message_bytes: 10,
            ..DecodeLimits::default()
        };
        let e = err(b"{\"id\":\"aaaaaaaaaaaa\"}", &limits);
        assert_eq!(e.reason, Reason::TooLarge);
        assert_eq!(e.field, None);
    }

    #[test]
    fn a_ten_megabyte_message_is_refused_by_size_with_the_default_limits() {
        let text = "差".repeat(10 * 1024 * 1024 / 3 + 1);
        let payload = format!(
            r#"{{"id":"a","kind":"review","created_at":"2026-11-03T00:00:00Z","source":"jd","text":"{text}"}}"#
        );
        assert!(payload.len() > 10 * 1024 * 1024);
        let e = err(payload.as_bytes(), &DecodeLimits::default());
        assert_eq!((e.reason, e.field.as_deref()), (Reason::TooLarge, None));
        assert!(e.detail.contains(&payload.len().to_string()), "{e}");
    }

    #[test]
    fn oversized_text_names_the_field() {
        let limits = DecodeLimits {
            max_text_bytes: 8,
            ..DecodeLimits::default()
        };
        let e = err(
            r#"{"id":"a","kind":"review","created_at":"2026-11-03T00:00:00Z","source":"jd","text":"太长太长太长"}"#.as_bytes(),
            &limits,
        );
        assert_eq!(
            (e.reason, e.field.as_deref()),
            (Reason::TooLarge, Some("text"))
        );
    }

    #[test]
    fn deep_nesting_is_its_own_reason() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            err(deep.as_bytes(), &DecodeLimits::default()).reason,
            Reason::TooDeep
        );
    }

    #[test]
    fn the_future_horizon_is_configurable() {
        let tomorrow = r#"{"id":"a","kind":"review","created_at":"2026-11-20T12:00:00Z","source":"jd","text":"x"}"#;
        assert!(decode(tomorrow.as_bytes(), &DecodeLimits::default(), now()).is_ok());
        let strict = DecodeLimits {
            max_future_secs: 60,
            ..DecodeLimits::default()
        };
        assert_eq!(
            err(tomorrow.as_bytes(), &strict).field.as_deref(),
            Some("created_at")
        );
    }

    #[test]
    fn reason_codes_are_distinct() {
        let codes: std::collections::BTreeSet<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(codes.len(), Reason::ALL.len());
    }
}
