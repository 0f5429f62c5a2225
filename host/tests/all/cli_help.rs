//! `heart-host up --help` says what the settings table says: every setting with a flag is
//! listed with its variable, its help, its range and its default, and no setting flag is listed
//! that the table lacks.

use std::process::Command;

use heart_host::settings::TABLE;

/// `text` with every run of whitespace made one space (clap lays help out over lines).
fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn up_help() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_heart-host"))
        .args(["up", "--help"])
        .env_clear()
        .output()
        .expect("running heart-host up --help");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).expect("help is UTF-8")
}

#[test]
fn up_help_lists_every_setting_of_the_table() {
    let help = flat(&up_help());
    let mut listed = 0;
    for entry in TABLE {
        let Some(flag) = entry.flag() else {
            assert!(
                !help.contains(entry.name()),
                "{} has no flag, yet --help names it",
                entry.name()
            );
            continue;
        };
        listed += 1;
        let line = flat(&format!(
            "--{flag} <{}> {} [env: {}=]",
            entry.value_name(),
            entry.help(),
            entry.name()
        ));
        assert!(help.contains(&line), "`{line}` is not in:\n{help}");
    }
    let env_backed = help.matches("[env: HEART_").count();
    // The table's flags, and the env-backed ones that are no settings: `--listen`, the TLS
    // pair and the global `--log-format`.
    assert_eq!(env_backed, listed + 4, "{help}");
}

#[test]
fn a_setting_flag_out_of_range_is_refused_with_the_tables_words() {
    let output = Command::new(env!("CARGO_BIN_EXE_heart-host"))
        .args([
            "up",
            "--from",
            "/nonexistent/spin.toml",
            "--max-streams",
            "10001",
        ])
        .env_clear()
        .output()
        .expect("running heart-host up");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "setting HEART_MAX_STREAMS (--max-streams) `10001` is invalid: expected a whole \
             number in 0..=10000"
        ),
        "{stderr}"
    );
}
