// 1. Declares the app's own commands so that capabilities/ can grant exactly
//    these and nothing else (no core plugin permissions are granted).
// 2. Lists the UI's language catalogs (ui/i18n/*.json) so that adding a
//    language is adding a file.
const COMMANDS: &[&str] = &[
    "app_info",
    "back_office",
    "session_view",
    "session_start",
    "session_input",
    "preview_frame",
    "still_image",
    "handoff_qr",
    "set_language",
    "staff_status",
    "staff_unlock",
    "staff_lock",
    "staff_set_pin",
    "staff_save",
    "staff_set_secrets",
    "staff_exit",
    "staff_restart",
    "staff_accept_photo",
];

fn languages() -> String {
    let dir = std::path::Path::new("../ui/i18n");
    println!("cargo:rerun-if-changed=../ui/i18n");
    let mut langs: Vec<(String, String)> = Vec::new();
    for entry in std::fs::read_dir(dir).expect("ui/i18n exists") {
        let path = entry.expect("readable ui/i18n").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let code = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).expect("readable catalog");
        let json: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: invalid JSON: {e}", path.display()));
        let name = json["_name"].as_str().unwrap_or(&code).to_owned();
        langs.push((code, name));
    }
    langs.sort();
    let items: Vec<String> = langs
        .iter()
        .map(|(c, n)| format!("({c:?}, {n:?})"))
        .collect();
    format!("&[{}]", items.join(", "))
}

fn main() {
    let out = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(std::path::Path::new(&out).join("languages.rs"), languages())
        .expect("write languages.rs");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
