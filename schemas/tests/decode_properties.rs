//! Properties of the decoder over generated input: it never panics, what it
//! accepts survives a round trip through its own JSON, and what it refuses
//! always carries a reason, a detail and (where there is one) the field.

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use tongdian_schemas::{decode, DecodeLimits, Reason, Rejection};

fn now() -> DateTime<Utc> {
    "2026-11-20T00:00:00Z".parse().unwrap()
}

/// The rejection is well-formed: a known reason, a sentence, and for the
/// reasons about one field, that field, named in the sentence too.
fn check_rejection(e: &Rejection) -> Result<(), TestCaseError> {
    prop_assert!(Reason::ALL.contains(&e.reason));
    prop_assert!(!e.detail.trim().is_empty(), "{e:?}");
    let per_field = matches!(
        e.reason,
        Reason::MissingField | Reason::BadType | Reason::BadValue | Reason::UnknownField
    );
    if per_field {
        let field = e.field.as_deref();
        prop_assert!(field.is_some(), "{e:?}");
        prop_assert!(e.detail.contains(field.unwrap()), "{e:?}");
    }
    Ok(())
}

/// Accepted messages re-encode to JSON the decoder accepts as the same value.
fn check_round_trip(payload: &[u8]) -> Result<(), TestCaseError> {
    match decode(payload, &DecodeLimits::default(), now()) {
        Ok(f) => {
            let again = serde_json::to_vec(&f).unwrap();
            let back = decode(&again, &DecodeLimits::default(), now());
            prop_assert_eq!(back.as_ref().ok(), Some(&f), "{:?}", back);
        }
        Err(e) => check_rejection(&e)?,
    }
    Ok(())
}

/// `Some` from `s`, or `None` once in `1 + some` draws.
fn maybe<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T> + 'static,
    some: u32,
) -> BoxedStrategy<Option<T>> {
    prop_oneof![1 => Just(None), some => s.prop_map(Some)].boxed()
}

/// Mostly one of the kinds, sometimes not.
fn kind() -> BoxedStrategy<&'static str> {
    prop_oneof![
        3 => Just("review"),
        3 => Just("ticket"),
        3 => Just("survey"),
        3 => Just("social"),
        1 => Just("email"),
    ]
    .boxed()
}

/// Short strings, mostly printable, sometimes blank, control characters or
/// CJK: near the contract's edges.
fn text() -> BoxedStrategy<String> {
    prop_oneof![
        12 => "[a-z0-9][a-z0-9 ]{0,12}",
        6 => "[\u{4e00}-\u{4e20}][\u{4e00}-\u{4e20}，。！]{0,12}",
        1 => "[ \t\n]{0,3}",
        1 => "[a\u{0}-\u{1f}\u{7f}]{0,4}",
        1 => any::<String>(),
    ]
    .boxed()
}

fn timestamp() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => (1990i32..2027, 1u32..=12, 1u32..=28, 0u32..24, -14i32..=14).prop_map(
            |(y, m, d, h, off)| {
                let sign = if off < 0 { '-' } else { '+' };
                json!(format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00{sign}{:02}:00", off.abs()))
            }
        ),
        1 => (2027i32..10000).prop_map(|y| json!(format!("{y:04}-01-01T00:00:00Z"))),
        1 => text().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
    ]
    .boxed()
}

fn score(lo: i64, hi: i64) -> BoxedStrategy<Value> {
    prop_oneof![
        12 => (lo..=hi).prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => "[0-9]{1,2}".prop_map(Value::from),
    ]
    .boxed()
}

/// Envelopes that are often valid and often wrong in one or two places.
fn envelope() -> impl Strategy<Value = Value> {
    let id = prop_oneof![12 => "[a-z0-9-]{1,12}".prop_map(Value::from), 1 => any::<i32>().prop_map(Value::from)];
    let head = (
        maybe(id, 15),
        maybe(kind(), 15),
        maybe(timestamp(), 15),
        maybe(text(), 15),
        maybe(text(), 6),
        maybe(text(), 1),
    );
    let tail = (
        maybe(score(0, 6), 1),
        maybe(
            (
                maybe(score(-1, 11), 1),
                maybe(score(0, 6), 1),
                maybe(score(0, 8), 1),
            ),
            1,
        ),
        maybe(
            (
                maybe(text(), 1),
                maybe(prop_oneof![Just("new"), Just("at_risk"), Just("vip")], 1),
            ),
            1,
        ),
        maybe(
            proptest::collection::btree_map("[a-z]{1,4}", text(), 0..4),
            1,
        ),
        // A key the contract does not know, now and then.
        maybe("[a-z]{1,6}", 1).prop_map(|k| k.filter(|k| k.len() == 1)),
    );
    (head, tail).prop_map(
        |(
            (id, kind, created_at, source, text, channel),
            (rating, survey, customer, attributes, unknown),
        )| {
            let mut m = Map::new();
            let mut put = |k: &str, v: Option<Value>| {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            };
            put("id", id);
            put("kind", kind.map(Value::from));
            put("created_at", created_at);
            put("source", source.map(Value::from));
            put("text", text.map(Value::from));
            put("channel", channel.map(Value::from));
            put("rating", rating);
            put(
                "survey",
                survey.map(|(nps, csat, ces)| json!({"nps": nps, "csat": csat, "ces": ces})),
            );
            put(
                "customer",
                customer.map(|(id, segment)| json!({"id": id, "segment": segment})),
            );
            put("attributes", attributes.map(|a| json!(a)));
            if let Some(k) = unknown {
                m.insert(format!("x_{k}"), json!(1));
            }
            Value::Object(m)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_bytes_never_panic_and_are_refused_with_a_reason(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        check_round_trip(&bytes)?;
    }

    #[test]
    fn generated_envelopes_round_trip_or_are_refused_with_a_reason(v in envelope()) {
        check_round_trip(&serde_json::to_vec(&v).unwrap())?;
    }

    #[test]
    fn damaged_envelopes_never_panic(v in envelope(), at in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<bool>()) {
        let mut bytes = serde_json::to_vec(&v).unwrap();
        let i = at.index(bytes.len());
        if cut {
            bytes.truncate(i);
        } else {
            bytes[i] = byte;
        }
        check_round_trip(&bytes)?;
    }
}

/// The generator is worth its name: it produces both accepted and refused
/// envelopes, and refusals of many kinds.
#[test]
fn the_envelope_generator_reaches_both_outcomes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut accepted, mut reasons) = (0, std::collections::BTreeSet::new());
    for _ in 0..2_000 {
        let v = envelope().new_tree(&mut runner).unwrap().current();
        match decode(
            &serde_json::to_vec(&v).unwrap(),
            &DecodeLimits::default(),
            now(),
        ) {
            Ok(_) => accepted += 1,
            Err(e) => {
                reasons.insert(e.reason);
            }
        }
    }
    assert!(accepted >= 50, "{accepted} accepted");
    for r in [
        Reason::MissingField,
        Reason::BadType,
        Reason::BadValue,
        Reason::UnknownField,
    ] {
        assert!(reasons.contains(&r), "{reasons:?}");
    }
}
