//! The fuzz targets' short run, in the normal test build: every entry point
//! of `kyc_kiosk::fuzzing` over its committed corpus (`fuzz/corpus/NAME/`),
//! the crash regressions (`fuzz/regressions/NAME/`) and a few thousand
//! seeded mutations of the corpus. The long runs are `scripts/fuzz.sh`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use kyc_kiosk::fuzzing::TARGETS;

/// Mutations per target; `FUZZ_SMOKE_MUTATIONS` overrides.
const MUTATIONS: usize = 10_000;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    v.sort();
    v
}

/// xorshift64*: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

const INTERESTING: [u8; 10] = [0, 1, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'\n', b'0'];

/// One to four libFuzzer-style edits of `seed` (with `other` for splicing).
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = v.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                v.splice(i..i, bytes);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                v.drain(i..i + n);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = v[i..i + n].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            5 => v.truncate(rng.below(len + 1)),
            6 if !other.is_empty() => {
                let cut = rng.below(len + 1);
                let from = rng.below(other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ if len >= 4 => {
                // A 16- or 32-bit field set to an extreme (sizes, lengths).
                let i = rng.below(len - 3);
                let val: [u8; 4] = [[0xff; 4], [0; 4], [0x7f, 0xff, 0xff, 0xff]][rng.below(3)];
                let n = if rng.below(2) == 0 { 2 } else { 4 };
                v[i..i + n].copy_from_slice(&val[..n]);
            }
            _ => {}
        }
    }
    v
}

fn run_one(name: &str, f: fn(&[u8]), what: &str, input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| f(input))).is_err() {
        let shown: String = input.iter().take(256).map(|b| format!("{b:02x}")).collect();
        panic!(
            "fuzz target {name} panicked on {what} ({} bytes): {shown}…\n\
             save the input under fuzz/regressions/{name}/ and fix the cause",
            input.len()
        );
    }
}

// The fuzz targets must never panic: the corpus, every recorded crash and a
// few thousand mutations per target, in seconds.
#[test]
fn fuzz_targets_survive_corpus_regressions_and_mutations() {
    let mutations = std::env::var("FUZZ_SMOKE_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(MUTATIONS);
    for &(name, f) in TARGETS {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(
            !corpus.is_empty(),
            "fuzz/corpus/{name}/ has no seed: every target needs one"
        );
        let regressions = files(&fuzz_dir().join("regressions").join(name));
        for (path, bytes) in corpus.iter().chain(&regressions) {
            run_one(name, f, &path.display().to_string(), bytes);
        }
        // One seed per target, so a change of corpus changes nothing else.
        let mut rng =
            Rng(0x9e37_79b9_7f4a_7c15 ^ name.len() as u64 ^ u64::from(name.as_bytes()[0]));
        for i in 0..mutations {
            let seed = &corpus[rng.below(corpus.len())].1;
            let other = &corpus[rng.below(corpus.len())].1;
            let input = mutate(&mut rng, seed, other);
            run_one(name, f, &format!("mutation {i}"), &input);
        }
    }
}

// Every target in `fuzz/` is one of the library's entry points, and back.
#[test]
fn every_entry_point_has_a_fuzz_target_and_a_corpus() {
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for &(name, _) in TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
        let target =
            std::fs::read_to_string(fuzz_dir().join("fuzz_targets").join(format!("{name}.rs")))
                .unwrap_or_else(|e| panic!("fuzz/fuzz_targets/{name}.rs: {e}"));
        assert!(
            target.contains(&format!("fuzzing::{name}(")),
            "fuzz/fuzz_targets/{name}.rs does not call fuzzing::{name}"
        );
    }
    assert_eq!(
        manifest.matches("[[bin]]").count(),
        TARGETS.len(),
        "fuzz/Cargo.toml has targets the test does not run"
    );
}
