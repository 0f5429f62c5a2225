//! `heart_validate DIR`: checks a config directory (one file per key, a mounted ConfigMap) with
//! heart-core's rules, the same ones `heart-host validate-config` and the hot reload use.
//!
//! Built for `wasm32-wasip2` it is a `wasi:cli` command component, so a Wasm RuntimeClass pod
//! can run its pre-start check as Wasm too. Exit 0 when valid; 1 with one line per bad entry on
//! stderr; 2 on a usage error. The directory must be visible to the guest (a preopen, or the
//! container's root as the heart shim provides).

use std::path::Path;
use std::process::ExitCode;

use heart_core::config_files;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        eprintln!(
            "usage: heart_validate DIR  (a directory of config files: love-level, bpm, color, size, alert-threshold)"
        );
        return ExitCode::from(2);
    };
    let dir = Path::new(dir);
    let names = match std::fs::read_dir(dir).and_then(|entries| {
        entries
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<Vec<_>, _>>()
    }) {
        Ok(names) => names,
        Err(e) => {
            eprintln!(
                "reading config directory {}: {}",
                dir.display(),
                describe(&e)
            );
            return ExitCode::FAILURE;
        }
    };
    match config_files::check(names, |name| {
        std::fs::read(dir.join(name)).map_err(|e| describe(&e))
    }) {
        Ok(values) => {
            let shown: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
            println!(
                "config directory {} is valid: {}",
                dir.display(),
                shown.join(" ")
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{}: {problem}", dir.display());
            }
            eprintln!("validation found {} problem(s)", problems.len());
            ExitCode::FAILURE
        }
    }
}

/// An I/O error in words (WASI's raw errno numbers differ from the host's, so they are left out).
fn describe(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory (is it mounted?)".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        std::io::ErrorKind::NotADirectory => "not a directory".to_owned(),
        kind => kind.to_string(),
    }
}
