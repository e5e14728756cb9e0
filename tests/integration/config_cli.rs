//! Configuration mistakes stop the binary at once, naming the key.

use crate::support::tongdian;

#[test]
fn an_unknown_key_in_the_config_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tongdian.toml");
    std::fs::write(&path, "[sink]\nflush_every = 3\n").unwrap();
    let out = tongdian()
        .args(["run", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("flush_every") && err.contains("tongdian.toml"),
        "{err}"
    );
}

#[test]
fn an_unknown_environment_variable_is_named() {
    let out = tongdian()
        .arg("run")
        .env("TONGDIAN_KAFKA_BROKERZ", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TONGDIAN_KAFKA_BROKERZ"));
}

#[test]
fn a_librdkafka_setting_that_would_break_the_guarantees_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tongdian.toml");
    std::fs::write(
        &path,
        "[kafka.librdkafka]\n\"enable.auto.commit\" = \"true\"\n",
    )
    .unwrap();
    let out = tongdian()
        .args(["run", "--config", path.to_str().unwrap(), "--output"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("enable.auto.commit"));
}
