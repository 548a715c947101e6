//! `kyc-kiosk detect --json` on fixture images.

use std::process::Command;

#[test]
fn detect_json_prints_one_object_per_file_with_documents_and_faces() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/detect");
    let out = Command::new(env!("CARGO_BIN_EXE_kyc-kiosk"))
        .current_dir(data)
        .args([
            "detect",
            "--json",
            "--kind",
            "id",
            "two_faces.jpg",
            "no_face.jpg",
            "missing.jpg",
        ])
        .output()
        .unwrap();
    // An unreadable file is reported and makes the exit code 2.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let two = &lines[0];
    assert_eq!(two["file"], "two_faces.jpg");
    assert_eq!(
        (two["width"].as_u64(), two["height"].as_u64()),
        (Some(640), Some(360))
    );
    assert_eq!(two["faces"].as_array().unwrap().len(), 2, "{two}");
    for face in two["faces"].as_array().unwrap() {
        assert_eq!(face["box"].as_array().unwrap().len(), 4);
        assert!(face["score"].as_f64().unwrap() > 0.5);
    }
    assert!(two["analysis_ms"].as_f64().unwrap() > 0.0);
    let none = &lines[1];
    assert_eq!(none["document"], serde_json::Value::Null, "{none}");
    assert_eq!(none["faces"].as_array().unwrap().len(), 0, "{none}");
    assert_eq!(lines[2]["file"], "missing.jpg");
    assert!(lines[2]["error"].is_string());
}
