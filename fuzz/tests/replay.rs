//! The fuzz targets' properties on stable, in `cargo xtask test`: every committed seed and
//! regression input (`seeds/<target>/*`, where a crash found by fuzzing is kept as a file) runs
//! through its target — the seeds include what `cargo xtask fuzz` kept for reaching new
//! coverage — then a fixed number of deterministic mutants of them (byte flips, inserts,
//! deletes, splices) do, so the properties meet hostile input even where nightly is not
//! installed.

/// A small deterministic generator (xorshift64*), so a failure replays the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Interesting bytes for text formats: digits, signs, separators, quotes, NUL, non-UTF-8.
const DICTIONARY: &[&[u8]] = &[
    b"=",
    b"\n",
    b"&",
    b"?",
    b"-",
    b"+",
    b".",
    b"e",
    b"9",
    b"0",
    b"\"",
    b"{",
    b"}",
    b"\x00",
    b"\x01",
    b"\xff",
    b"NaN",
    b"inf",
    b"1e309",
    b"-1",
    b"99999999999999999999",
    b"%00",
    b"%zz",
    b"{{",
    b"}}",
    b"[",
    b"]",
];

fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => {
                let word = DICTIONARY[rng.below(DICTIONARY.len())];
                let at = rng.below(data.len() + 1);
                data.splice(at..at, word.iter().copied());
            }
            2 if !data.is_empty() => {
                let at = rng.below(data.len());
                let len = 1 + rng.below((data.len() - at).min(16));
                data.drain(at..at + len);
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let len = 1 + rng.below((other.len() - from).min(32));
                let at = rng.below(data.len() + 1);
                data.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                let at = rng.below(data.len() + 1);
                data.insert(at, rng.next() as u8);
            }
        }
    }
    data
}

/// Runs one input, naming it when a property breaks.
fn check(target: &str, name: &str, input: &[u8], run: fn(&[u8])) {
    let outcome = std::panic::catch_unwind(|| run(input));
    assert!(
        outcome.is_ok(),
        "{target}: {name} broke a property; input: {:?}",
        String::from_utf8_lossy(input)
    );
}

/// Runs every seed of `target`, then `mutants` mutants of seeds picked at random (a fixed
/// number, however many seeds `cargo xtask fuzz` has kept); returns how many inputs ran.
fn replay(target: &str, run: fn(&[u8]), mutants: usize) -> usize {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("seeds")
        .join(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a readable seed");
            (path.display().to_string(), data)
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (name, seed) in &seeds {
        check(target, name, seed, run);
    }
    for m in 0..mutants {
        let (name, seed) = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())].1;
        let input = mutate(&mut rng, seed, other);
        check(target, &format!("mutant {m} of {name}"), &input, run);
    }
    seeds.len() + mutants
}

#[test]
fn config_and_render() {
    assert!(
        replay(
            "config_and_render",
            heart_fuzz::config_and_render::run,
            1000
        ) > 1000
    );
}

#[test]
fn api_request() {
    assert!(replay("api_request", heart_fuzz::api_request::run, 14000) > 14000);
}

#[test]
fn beat_report() {
    assert!(replay("beat_report", heart_fuzz::beat_report::run, 20000) > 20000);
}

#[test]
fn config_files() {
    assert!(replay("config_files", heart_fuzz::config_files::run, 15000) > 15000);
}

#[test]
fn spin_manifest() {
    assert!(replay("spin_manifest", heart_fuzz::spin_manifest::run, 15000) > 15000);
}

#[test]
fn env_values() {
    assert!(replay("env_values", heart_fuzz::env_values::run, 15000) > 15000);
}

#[test]
fn live_stream() {
    assert!(replay("live_stream", heart_fuzz::live_stream::run, 5000) > 5000);
}

#[test]
fn settings() {
    assert!(replay("settings", heart_fuzz::settings::run, 15000) > 15000);
}

#[test]
fn pod_template() {
    assert!(replay("pod_template", heart_fuzz::pod_template::run, 3000) > 3000);
}

#[test]
fn chart_values() {
    assert!(replay("chart_values", heart_fuzz::chart_values::run, 15000) > 15000);
}

#[test]
fn trace_context() {
    assert!(replay("trace_context", heart_fuzz::trace_context::run, 15000) > 15000);
}

/// The replay can fail: a property that breaks on some input is caught.
#[test]
#[should_panic(expected = "broke a property")]
fn a_broken_property_fails_the_replay() {
    replay(
        "beat_report",
        |data| assert!(!data.contains(&b'{'), "a brace"),
        10,
    );
}
