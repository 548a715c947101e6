//! kyc-kiosk desktop shell: one window loading `ui/`, the app's commands, and
//! kiosk-mode window options. No business logic lives here: commands turn core
//! types into views (`dto.rs`) and call into the `kyc_kiosk` crate.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

#[cfg(test)]
mod catalogs;
mod commands;
mod dto;
mod preview_scheme;
mod staff;
mod state;
mod window;

use std::path::PathBuf;

use crate::dto::CommandError;

/// Everything read at start: the validated configuration (or why there is
/// none, with the defaults the error screen runs on), the staff file and
/// where it lives, the secret store, and why the keyring could not be read.
struct Loaded {
    config: Result<kyc_kiosk::config::Config, (CommandError, kyc_kiosk::config::Config)>,
    staff_file: kyc_kiosk::staff::StaffFile,
    staff_path: Option<PathBuf>,
    store: Box<dyn kyc_kiosk::staff::SecretStore>,
    keyring_error: Option<String>,
}

/// The secret store: `KYC_KIOSK_KEYRING` = `os` (default), `kernel` (Linux
/// kernel keyring only: headless, not kept across reboots) or `memory`
/// (forgotten at exit; tests and demonstrations).
fn secret_store() -> Box<dyn kyc_kiosk::staff::SecretStore> {
    use kyc_kiosk::staff::{secrets::KeyringBackend, KeyringStore};
    match std::env::var("KYC_KIOSK_KEYRING").as_deref() {
        // A store that forgets at exit exists for tests only.
        #[cfg(feature = "test-switches")]
        Ok("memory") => Box::new(kyc_kiosk::staff::MemoryStore::default()),
        #[cfg(target_os = "linux")]
        Ok("kernel") => Box::new(KeyringStore::new(
            kyc_kiosk::staff::secrets::SERVICE,
            KeyringBackend::Kernel,
        )),
        _ => Box::new(KeyringStore::os()),
    }
}

/// Config file, then the staff settings file over it, then the environment
/// over both, then secrets from the keyring where none of them gave one.
/// Never fails: a file that cannot be read or a configuration that does not
/// validate (a live API without credentials included) is kept as the
/// start-up error, and the window opens on the error screen.
fn load_config() -> Loaded {
    use kyc_kiosk::config::{default_path, Config, RawConfig};
    use kyc_kiosk::staff::{settings, StaffFile};
    let mut failed: Option<CommandError> = None;
    let path = std::env::var_os("KYC_KIOSK_CONFIG")
        .map(PathBuf::from)
        .or_else(default_path);
    let raw = match &path {
        Some(p) => RawConfig::load(p).unwrap_or_else(|e| {
            failed.get_or_insert(e.into());
            RawConfig::default()
        }),
        None => RawConfig::default(),
    };
    let staff_path = path.as_deref().map(settings::path_for);
    let staff_file = match &staff_path {
        Some(p) => StaffFile::load(p).unwrap_or_else(|e| {
            failed.get_or_insert(e.into());
            StaffFile::default()
        }),
        None => StaffFile::default(),
    };
    // The environment over the files; the keyring then fills only what
    // neither gave (so the environment still wins, and a stored kiosk
    // credential is used only when a relay URL is set somewhere).
    let mut raw = staff_file.overlay(raw).with_env(std::env::vars());
    let store = secret_store();
    let keyring_error = match kyc_kiosk::staff::secrets::fill(&mut raw, store.as_ref()) {
        Ok(()) => None,
        Err(e) => {
            // Fatal only when the live API needs what the keyring holds
            // (validation decides): credentials may come from the environment.
            tracing::warn!(code = %e.code(), "{e}");
            Some(e.to_string())
        }
    };
    if let Some(e) = &keyring_error {
        raw = raw.with_keyring_error(e.clone());
    }
    // What the error screen needs: the staff PIN (to exit) and kiosk mode.
    let mut fallback = Config::default();
    fallback.kiosk.kiosk_mode = raw.kiosk.kiosk_mode.unwrap_or(false);
    // A hash that does not parse opens nothing (it is the error shown).
    fallback.kiosk.staff_pin_hash = raw
        .kiosk
        .staff_pin_hash
        .as_deref()
        .and_then(|h| kyc_kiosk::staff::PinHash::parse(h).ok());
    let config = match failed {
        Some(e) => Err(e),
        None => raw.validate().map_err(CommandError::from),
    };
    Loaded {
        config: config.map_err(|e| (e, fallback)),
        staff_file,
        staff_path,
        store,
        keyring_error,
    }
}

/// Test switches from the environment, read here at the edge (only in builds
/// with the `test-switches` feature; `make release` compiles them out):
/// `KYC_KIOSK_SANDBOX_LISTEN` (address of the embedded sandbox, so a test or
/// a phone emulator can reach it), `KYC_KIOSK_SANDBOX_MANUAL_REVIEW=1`,
/// `KYC_KIOSK_CAMERA` (`demo` or `native`), `KYC_KIOSK_DEMO_SETTLE_FRAMES`
/// (blurred frames after each demo scene change), `KYC_KIOSK_AUTO_CAPTURE=0`,
/// `KYC_KIOSK_DEMO_SCENE` (see [`force_demo_scene`]).
#[cfg(feature = "test-switches")]
fn kiosk_options() -> kyc_kiosk::session::KioskOptions {
    use kyc_kiosk::session::{CameraChoice, KioskOptions};
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    KioskOptions {
        sandbox_listen: var("KYC_KIOSK_SANDBOX_LISTEN").and_then(|v| v.parse().ok()),
        sandbox_manual_review: var("KYC_KIOSK_SANDBOX_MANUAL_REVIEW").is_some_and(|v| v == "1"),
        camera: match var("KYC_KIOSK_CAMERA").as_deref() {
            Some("demo") => CameraChoice::Demo,
            Some("native") => CameraChoice::Native,
            _ => CameraChoice::Auto,
        },
        demo_settle_frames: var("KYC_KIOSK_DEMO_SETTLE_FRAMES").and_then(|v| v.parse().ok()),
        auto_capture: if var("KYC_KIOSK_AUTO_CAPTURE").is_some_and(|v| v == "0") {
            None
        } else {
            Some(kyc_kiosk::session::autocapture::AutoConfig::default())
        },
        ..KioskOptions::default()
    }
}

/// A production build takes no option from the environment.
#[cfg(not(feature = "test-switches"))]
fn kiosk_options() -> kyc_kiosk::session::KioskOptions {
    kyc_kiosk::session::KioskOptions::default()
}

/// `KYC_KIOSK_DEMO_SCENE` (a demo picture's name without `.jpg`, such as
/// `front_far`): the demo camera shows that scene whatever side is asked
/// for, so a test sees the framing hints; a test switch.
#[cfg(feature = "test-switches")]
fn force_demo_scene(kiosk: &kyc_kiosk::session::Kiosk) {
    use kyc_kiosk::camera::DemoScene;
    let Ok(name) = std::env::var("KYC_KIOSK_DEMO_SCENE") else {
        return;
    };
    let scene = DemoScene::ALL
        .into_iter()
        .find(|s| s.file_name().strip_suffix(".jpg") == Some(name.as_str()));
    match (scene, kiosk.demo_camera()) {
        (Some(s), Some(c)) => c.force_scene(Some(s)),
        _ => tracing::warn!(%name, "KYC_KIOSK_DEMO_SCENE: no such demo scene, or no demo camera"),
    }
}

#[cfg(not(feature = "test-switches"))]
fn force_demo_scene(_: &kyc_kiosk::session::Kiosk) {}

/// `KYC_KIOSK_PREVIEW_TRANSPORT=scheme` switches the preview to the custom
/// URI scheme (to measure both transports); a test switch.
fn preview_transport() -> &'static str {
    #[cfg(feature = "test-switches")]
    if std::env::var("KYC_KIOSK_PREVIEW_TRANSPORT").as_deref() == Ok("scheme") {
        return "scheme";
    }
    "ipc"
}

/// Whether WebKit should paint without compositing: on Linux, when the
/// machine has no GPU (no DRM device) and `WEBKIT_DISABLE_COMPOSITING_MODE`
/// is not already in the environment (then WebKit reads it). Without a
/// GPU, WebKitGTK's compositing runs on Mesa's software rasteriser: in the
/// preview benchmark that was three quarters of the web view's CPU, which
/// the CPU renderer does without (105 % of a core against 26–29 %,
/// BENCHMARKS.md).
fn wants_cpu_rendering(linux: bool, already_set: bool, has_gpu: bool) -> bool {
    linux && !already_set && !has_gpu
}

/// Chooses the CPU renderer (see [`wants_cpu_rendering`]); before any thread
/// starts, as environment changes must be.
fn cpu_rendering_without_a_gpu() {
    if wants_cpu_rendering(
        cfg!(target_os = "linux"),
        std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some(),
        std::path::Path::new("/dev/dri").exists(),
    ) {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

fn main() -> anyhow::Result<()> {
    cpu_rendering_without_a_gpu();
    // Customer images and secrets live in this process's memory: never in a
    // core file.
    if let Err(e) = kyc_kiosk::hardening::disable_core_dumps() {
        eprintln!("kyc-kiosk: {e}");
    }
    // Freed frames and stills leave the process (memory stays flat from
    // customer to customer).
    kyc_kiosk::hardening::unmap_large_buffers();
    let log = std::env::var("KYC_KIOSK_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok());
    kyc_kiosk::logging::init(Some(log.as_deref().unwrap_or("info")));
    let Loaded {
        config,
        staff_file,
        staff_path,
        store,
        keyring_error,
    } = load_config();
    let (config, failed) = match config {
        Ok(c) => (c, None),
        Err((e, fallback)) => {
            // Shown in the window too; the message names the field or the
            // cause and never holds a secret value.
            tracing::error!(code = %e.code, "configuration: {}", e.message);
            (fallback, Some(e))
        }
    };
    let kiosk_mode = config.kiosk.kiosk_mode;
    tracing::info!(
        sandbox = config.backend.is_sandbox(),
        test_api = config.backend.test_api(),
        kiosk_mode,
        "starting kyc-kiosk"
    );

    tauri::Builder::default()
        .register_asynchronous_uri_scheme_protocol(preview_scheme::SCHEME, preview_scheme::handle)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::back_office,
            commands::session_view,
            commands::session_start,
            commands::session_input,
            commands::preview_frame,
            commands::still_image,
            commands::handoff_qr,
            commands::set_language,
            staff::staff_status,
            staff::staff_unlock,
            staff::staff_lock,
            staff::staff_set_pin,
            staff::staff_save,
            staff::staff_set_secrets,
            staff::staff_exit,
            staff::staff_restart,
            staff::staff_accept_photo,
        ])
        .setup(move |app| {
            use tauri::Manager;
            // The backend (the embedded sandbox when chosen or nothing is
            // configured), the webhook receiver, the cameras and the session
            // driver start here, once. Whatever stops them is the start-up
            // error the window shows.
            let kiosk = match failed {
                Some(e) => Err(e),
                None => tauri::async_runtime::block_on(kyc_kiosk::session::Kiosk::start(
                    &config,
                    kiosk_options(),
                ))
                .map_err(|e| {
                    tracing::error!(code = %e.code(), "cannot start the kiosk: {e}");
                    CommandError::from(e)
                }),
            };
            if let Ok(k) = &kiosk {
                force_demo_scene(k);
            }
            let transport = preview_transport();
            let staff = kyc_kiosk::staff::Console::new(kyc_kiosk::staff::Setup {
                config: &config,
                file: staff_file,
                path: staff_path,
                store,
                keyring_error,
                languages: commands::LANGUAGES
                    .iter()
                    .map(|(code, _)| (*code).to_owned())
                    .collect(),
            });
            app.manage(state::AppState::new(
                config.clone(),
                kiosk,
                transport,
                staff,
            ));
            window::create_main(app.handle(), kiosk_mode)?;
            Ok(())
        })
        .on_window_event(window::on_event)
        .run(tauri::generate_context!())
        .map_err(|e| anyhow::anyhow!("tauri: {e}"))
}

#[cfg(test)]
mod tests {
    use super::wants_cpu_rendering;

    #[test]
    fn the_cpu_renderer_is_chosen_only_on_linux_without_a_gpu_and_unless_told_otherwise() {
        assert!(wants_cpu_rendering(true, false, false));
        assert!(!wants_cpu_rendering(true, false, true), "a GPU composites");
        assert!(
            !wants_cpu_rendering(true, true, false),
            "the environment's own choice stands"
        );
        assert!(!wants_cpu_rendering(false, false, false));
    }
}
