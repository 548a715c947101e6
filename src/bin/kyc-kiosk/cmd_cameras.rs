//! `kyc-kiosk cameras`: list camera devices (name, index, formats, sizes,
//! frame rates) and which one serves each role; say plainly when there are
//! none (the demo camera still works). With `--probe`, stream from each one
//! and report what it delivers (see `cameras_probe`).

use std::path::PathBuf;

use kyc_kiosk::camera::{self, devices, DeviceList};

use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Directory of the demo camera's pictures.
    #[arg(long, value_name = "DIR")]
    demo_dir: Option<PathBuf>,
    /// Open each camera as the kiosk would, stream and report its measured
    /// rate, first-frame latency, bad frames and the quality of its last
    /// frame; exit 7 when a camera cannot deliver.
    #[arg(long)]
    probe: bool,
    /// How long `--probe` streams from each camera.
    #[arg(long, value_name = "S", default_value_t = 3.0, requires = "probe")]
    seconds: f64,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> anyhow::Result<Exit> {
    if args.probe {
        return super::cameras_probe::run(args.seconds, args.json, config);
    }
    let list = camera::list_devices()?;
    let demo_dir = args
        .demo_dir
        .clone()
        .unwrap_or_else(camera::demo::default_dir);
    let demo = camera::demo::DemoFrames::load(&demo_dir);
    let roles = match super::load_config(config) {
        Ok(cfg) => devices::assign_roles(&cfg.cameras, &list.devices).map_err(|e| e.to_string()),
        Err(e) => Err(format!("{e:#}")),
    };
    if args.json {
        let v = serde_json::json!({
            "native_support": list.native_support,
            "devices": list.devices,
            "roles": roles.as_ref().ok(),
            "roles_error": roles.as_ref().err().filter(|_| !list.devices.is_empty()),
            "demo": {
                "available": demo.is_ok(),
                "dir": demo_dir,
                "error": demo.as_ref().err().map(ToString::to_string),
            },
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(Exit::Success);
    }
    print_text(&list);
    if !list.devices.is_empty() {
        match &roles {
            Ok(r) => {
                println!(
                    "document camera: #{} {}\nselfie camera:   #{} {}{}",
                    r.document.index,
                    r.document.name,
                    r.selfie.index,
                    r.selfie.name,
                    if r.shared() {
                        " (one camera serves both)"
                    } else {
                        ""
                    }
                );
            }
            Err(e) => println!("roles: {e}"),
        }
    }
    match demo {
        Ok(_) => println!("The demo camera is available ({}).", demo_dir.display()),
        Err(e) => println!("The demo camera is not available: {e}"),
    }
    Ok(Exit::Success)
}

fn print_text(list: &DeviceList) {
    if !list.native_support {
        println!("This build has no camera support (built without the `native-camera` feature).");
        return;
    }
    if list.devices.is_empty() {
        println!("No camera found.");
        return;
    }
    for d in &list.devices {
        println!("#{} {}", d.index, d.name);
        if let Some(e) = &d.formats_error {
            println!("    formats unavailable: {e}");
        }
        for f in &d.formats {
            let fps: Vec<String> = f.fps.iter().map(ToString::to_string).collect();
            println!(
                "    {:<5} {:>4}x{:<4} {} fps",
                f.format,
                f.width,
                f.height,
                fps.join("/")
            );
        }
    }
}
