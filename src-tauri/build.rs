// Declares the app's own commands so that capabilities/ can grant exactly
// these and nothing else (no core plugin permissions are granted).
const COMMANDS: &[&str] = &["app_info"];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build script");
}
