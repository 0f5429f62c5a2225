//! Fuzzes the host's settings table both ways in: a container's environment (lines of
//! `NAME=VALUE`, as the shim reads them) and `heart-host up`'s flags (the same lines as
//! `--flag VALUE` arguments, through the clap command the table builds). No input may panic;
//! an accepted value is within its setting's range (its default when unset); a refusal names
//! the setting, the value as given and the accepted range, and it is the first bad value in
//! the table's order; flags and variables agree.

use std::collections::BTreeMap;

use heart_settings::{self as settings, SettingError, Settings, TABLE, Whole};

/// One fuzz input: panics on a broken property.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut env: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some((name, value)) = line.split_once('=') {
            // The first definition wins, as in a process environment built from a list.
            env.entry(name.to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
    let from_env = Settings::from_lookup(|name| env.get(name).cloned());
    check(&env, &from_env);
    // The same values as flags, where the setting has one.
    let mut args = vec!["up".to_owned()];
    let mut flagged = BTreeMap::new();
    for entry in TABLE {
        if let (Some(flag), Some(value)) = (entry.flag(), env.get(entry.name())) {
            args.push(format!("--{flag}={value}"));
            flagged.insert(entry.name().to_owned(), value.clone());
        }
    }
    let command = clap::Command::new("up").args(settings::flags());
    let matches = command
        .try_get_matches_from(&args)
        .unwrap_or_else(|e| panic!("every flag takes any text value: {args:?}: {e}"));
    let from_flags = Settings::from_lookup(|name| matches.get_one::<String>(name).cloned());
    check(&flagged, &from_flags);
    let from_same_variables = Settings::from_lookup(|name| flagged.get(name).cloned());
    assert_eq!(
        from_flags, from_same_variables,
        "flags and variables read alike: {args:?}"
    );
}

/// The properties of one reading of `given`.
fn check(given: &BTreeMap<String, String>, result: &Result<Settings, SettingError>) {
    match result {
        Ok(settings) => {
            in_range(settings.max_instances, &settings::MAX_INSTANCES, given);
            in_range(settings.memory_limit_mb, &settings::MEMORY_LIMIT_MB, given);
            in_range(
                settings.request_timeout_ms,
                &settings::REQUEST_TIMEOUT_MS,
                given,
            );
            in_range(settings.instance_reuse, &settings::INSTANCE_REUSE, given);
            in_range(
                settings.shutdown_grace_secs,
                &settings::SHUTDOWN_GRACE_SECS,
                given,
            );
            in_range(settings.max_streams, &settings::MAX_STREAMS, given);
            assert_eq!(
                settings
                    .config_dir
                    .as_ref()
                    .map(|d| d.display().to_string()),
                given.get(settings::CONFIG_DIR.name).cloned()
            );
        }
        Err(error) => {
            let value = given
                .get(error.name)
                .unwrap_or_else(|| panic!("{} was refused but not given: {error}", error.name));
            assert_eq!(&error.value, value);
            let message = error.to_string();
            assert!(
                message.contains(error.name) && message.contains("..="),
                "{message}"
            );
            // Every setting before it in the reading order was accepted.
            let order = [
                settings::MAX_INSTANCES.name,
                settings::MEMORY_LIMIT_MB.name,
                settings::REQUEST_TIMEOUT_MS.name,
                settings::INSTANCE_REUSE.name,
                settings::SHUTDOWN_GRACE_SECS.name,
                settings::MAX_STREAMS.name,
            ];
            let at = order
                .iter()
                .position(|n| *n == error.name)
                .unwrap_or_else(|| panic!("{} is not a whole-number setting", error.name));
            let earlier: BTreeMap<String, String> = given
                .iter()
                .filter(|(k, _)| order[..at].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            assert!(
                Settings::from_lookup(|name| earlier.get(name).cloned()).is_ok(),
                "{error} was not the first bad value"
            );
        }
    }
}

/// `value`, read for `setting`, is within its range, and its default when `given` lacks it.
fn in_range<T>(value: T, setting: &Whole<T>, given: &BTreeMap<String, String>)
where
    T: PartialOrd + Copy + std::fmt::Debug,
{
    assert!(setting.range.contains(&value), "{} {value:?}", setting.name);
    if !given.contains_key(setting.name) {
        assert_eq!(value, setting.default, "{} unset", setting.name);
    }
}
