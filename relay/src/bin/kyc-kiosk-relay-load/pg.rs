//! A throwaway PostgreSQL cluster, as `scripts/relay-db.sh` starts one: the
//! distribution's binaries, socket only, `fsync=off`, run as `postgres`
//! (through `runuser`) when the tool runs as root. Stopped and deleted on
//! drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _};

fn pg_bin() -> anyhow::Result<PathBuf> {
    for v in ["15", "16", "17", "14"] {
        let p = PathBuf::from(format!("/usr/lib/postgresql/{v}/bin"));
        if p.join("initdb").exists() {
            return Ok(p);
        }
    }
    bail!("PostgreSQL is not installed (scripts/setup.sh test installs it)")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
}

/// One cluster in a temp folder.
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    user: String,
}

impl Cluster {
    /// initdb, start, create database `kyc`; `extra_conf` is appended to
    /// `postgresql.conf`.
    ///
    /// # Errors
    /// A PostgreSQL program failed (its output is in the message).
    pub fn start(max_connections: u32, extra_conf: &str) -> anyhow::Result<Self> {
        let bin = pg_bin()?;
        let dir = std::env::temp_dir().join(format!("kyc-relay-load-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        let user = if is_root() {
            let ok = Command::new("chown")
                .arg("postgres:")
                .arg(&dir)
                .status()
                .context("chown")?
                .success();
            if !ok {
                bail!("chown postgres: {}", dir.display());
            }
            "postgres".to_owned()
        } else {
            std::env::var("USER").unwrap_or_else(|_| "postgres".into())
        };
        let c = Self { bin, dir, user };
        let data = c.data();
        c.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                &c.user,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ],
        )?;
        let conf = format!(
            "listen_addresses = ''\nunix_socket_directories = '{}'\nfsync = off\nmax_connections = {max_connections}\n{extra_conf}",
            c.dir.display()
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(c.dir.join("data/postgresql.conf"))
            .context("postgresql.conf")?;
        std::io::Write::write_all(&mut f, conf.as_bytes()).context("postgresql.conf")?;
        c.pg_ctl("start")?;
        let sock = c.dir.to_str().unwrap_or_default().to_owned();
        c.run("createdb", &["-h", &sock, "-U", &c.user, "kyc"])?;
        Ok(c)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = c
            .args(args)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("run {program}"))?;
        if !out.status.success() {
            bail!(
                "{program} {args:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    fn pg_ctl(&self, what: &str) -> anyhow::Result<()> {
        let log = self.dir.join("postgres.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-w",
                "-t",
                "60",
                "-m",
                "fast",
                what,
            ],
        )
    }

    /// `pg_ctl restart -m fast`: every connection is cut.
    ///
    /// # Errors
    /// pg_ctl failed.
    pub fn restart(&self) -> anyhow::Result<()> {
        self.pg_ctl("restart")
    }

    /// The database's URL.
    #[must_use]
    pub fn url(&self) -> String {
        format!(
            "postgres:///kyc?host={}&user={}",
            self.dir.display(),
            self.user
        )
    }

    /// The postmaster's pid (first line of `postmaster.pid`).
    #[must_use]
    pub fn postmaster_pid(&self) -> Option<u32> {
        std::fs::read_to_string(self.dir.join("data/postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
