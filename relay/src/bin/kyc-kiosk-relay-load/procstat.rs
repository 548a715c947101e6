//! CPU time and memory of processes, and the machine's CPU, from `/proc`.

use std::time::Instant;

/// Clock ticks per second of `/proc/*/stat` (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// utime + stime of `pid`, in seconds.
#[must_use]
pub fn cpu_secs(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces: fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat are at 11 and 12 after the state (field 3).
    let u: f64 = f.get(11)?.parse().ok()?;
    let k: f64 = f.get(12)?.parse().ok()?;
    Some((u + k) / TICKS)
}

fn ppid(pid: u32) -> Option<u32> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// `pid` and its direct children (PostgreSQL's backends).
#[must_use]
pub fn with_children(pid: u32) -> Vec<u32> {
    let mut v = vec![pid];
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) {
                if ppid(p) == Some(pid) {
                    v.push(p);
                }
            }
        }
    }
    v
}

/// A `/proc/PID/status` field in kB (`VmRSS`, `VmHWM`).
#[must_use]
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Busy and total jiffies of the whole machine (`/proc/stat`, line `cpu`).
fn machine() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let l = s.lines().next()?;
    let v: Vec<u64> = l
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The 1-minute load average.
#[must_use]
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A CPU-time mark of a set of processes and of the machine.
#[derive(Debug, Clone)]
pub struct Mark {
    at: Instant,
    procs: Vec<f64>,
    machine: Option<(u64, u64)>,
}

impl Mark {
    /// `groups`: each entry is the pids whose CPU is summed.
    #[must_use]
    pub fn now(groups: &[Vec<u32>]) -> Self {
        Self {
            at: Instant::now(),
            procs: groups
                .iter()
                .map(|g| g.iter().filter_map(|p| cpu_secs(*p)).sum())
                .collect(),
            machine: machine(),
        }
    }

    /// Per group, CPU seconds used per wall second between `self` and `later`
    /// (1.0 = one core busy); and the machine's busy share (1.0 = all cores).
    #[must_use]
    pub fn usage(&self, later: &Mark) -> (Vec<f64>, Option<f64>) {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-6);
        let procs = self
            .procs
            .iter()
            .zip(&later.procs)
            .map(|(a, b)| (b - a).max(0.0) / wall)
            .collect();
        let machine = match (self.machine, later.machine) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 =>
            {
                #[allow(clippy::cast_precision_loss)]
                Some((b1 - b0) as f64 / (t1 - t0) as f64)
            }
            _ => None,
        };
        (procs, machine)
    }
}

impl Mark {
    /// The CPU seconds of group `i` at this mark.
    #[must_use]
    pub fn cpu(&self, i: usize) -> f64 {
        self.procs.get(i).copied().unwrap_or(0.0)
    }
}
