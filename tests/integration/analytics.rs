//! The analytics tables (`rollups`, `pain_points`, `alerts`) as `tongdian
//! demo` writes them, recomputed from `feedback` by an independent reader;
//! and the alert webhook, received by a real HTTP listener.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::support::{assert_rollups_match_feedback, read_analytics, stdout_of, tongdian};

/// Accepts HTTP POSTs on a free loopback port, answers 200 (or 503 to the
/// first `fail_first` requests) and keeps the JSON bodies.
fn webhook_receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = bodies.clone();
    std::thread::spawn(move || {
        let mut requests = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            requests += 1;
            let status = if requests <= fail_first {
                "503 Service Unavailable"
            } else {
                seen.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    (url, bodies)
}

#[test]
#[ignore = "needs the Python readers; run through scripts/test.sh"]
fn demo_rollups_priorities_and_alerts_agree_with_the_feedback_table() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("tables");
    let (url, received) = webhook_receiver(2);
    let stdout = stdout_of(
        tongdian()
            .args(["demo", "--output"])
            .arg(&output)
            .env("TONGDIAN_ANALYTICS_WEBHOOK_URL", &url),
    );
    assert!(stdout.contains("top priorities (1d window"), "{stdout}");
    assert!(stdout.contains("volume_spike"), "{stdout}");

    let f = read_analytics(
        &output,
        &["tongdian:feedback.reviews:0", "tongdian:feedback.counts:0"],
    );
    let rows = f["feedback_rows"].as_u64().unwrap();
    assert_eq!(rows, 2376);
    assert_rollups_match_feedback(&f, rows);
    assert_eq!(f["rollup_csat_satisfied"], f["feedback_csat_satisfied"]);
    // The shipped BI views answer over the real table.
    assert_eq!(
        f["view_nps_responses_1d"], f["feedback_nps_responses"],
        "{f}"
    );
    assert_eq!(f["view_csat_responses_1d"], f["feedback_csat_responses"]);
    assert_eq!(f["view_theme_complaints_1d"], f["feedback_complaints"]);
    assert!(
        f["view_stages_with_nps"].as_array().unwrap().len() >= 4,
        "NPS by journey stage: {}",
        f["view_stages_with_nps"]
    );
    // One critical alert per critical message, no more.
    let critical = f["critical_expected"].as_u64().unwrap();
    assert!(critical > 50, "{f}");
    assert_eq!(
        f["alerts_by_kind"]["critical_message"].as_u64(),
        Some(critical)
    );
    assert_eq!(f["critical_messages_alerted"].as_u64(), Some(critical));
    assert_eq!(f["alert_ids_distinct"], f["alert_rows"]);
    // The sample's stories: the delivery backlog and the app release.
    assert!(
        f["alerts_by_kind"]["volume_spike"].as_u64().unwrap() >= 1,
        "{f}"
    );
    // Priorities: every window ranked 1..n, all four MoSCoW buckets in use.
    assert!(f["pain_point_windows"].as_u64().unwrap() >= 15, "{f}");
    assert_eq!(f["pain_point_rank_gaps"].as_u64(), Some(0));
    assert_eq!(
        f["moscow_values"],
        serde_json::json!(["could", "must", "should", "wont"])
    );
    // Rollups and alerts hold the feedback table's offsets; the detector's
    // tables hold the counts topic's.
    let txn = &f["txn"];
    let fed = &txn["feedback"]["tongdian:feedback.reviews:0"];
    assert!(fed.as_i64().unwrap() > 0);
    assert_eq!(&txn["rollups"]["tongdian:feedback.reviews:0"], fed);
    assert_eq!(&txn["alerts"]["tongdian:feedback.reviews:0"], fed);
    assert!(
        txn["pain_points"]["tongdian:feedback.counts:0"]
            .as_i64()
            .unwrap()
            >= 0
    );

    // The webhook got every alert once, despite failing twice at first.
    let bodies = received.lock().unwrap();
    let expected = f["alert_rows"].as_u64().unwrap() as usize;
    assert_eq!(bodies.len(), expected, "webhook bodies");
    let mut ids: Vec<&str> = bodies
        .iter()
        .map(|b| b["alert_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), expected);
}
