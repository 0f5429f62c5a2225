//! Building the effective config from a component's variables (`wasi:config/store`, env, …).

use crate::api::message::ApiResponse;
use crate::config::{Field, HeartConfig};

/// Builds the config from `get`, which looks up one variable by its name (`love_level`, …)
/// and returns `Ok(None)` when it is not set. Unset variables keep their defaults.
///
/// On failure the error is the `500` response to serve: a misconfigured app is the operator's
/// fault, not the client's, and the message names every bad variable.
pub fn config_from_variables<F>(mut get: F) -> Result<HeartConfig, ApiResponse>
where
    F: FnMut(&str) -> Result<Option<String>, String>,
{
    let mut values: Vec<(&str, String)> = Vec::new();
    for field in Field::CONFIG {
        match get(field.variable()) {
            Ok(Some(value)) => values.push((field.variable(), value)),
            Ok(None) => {}
            Err(e) => {
                let message = format!("reading variable `{}` failed: {e}", field.variable());
                return Err(ApiResponse::error(500, &message, Some(field.variable())));
            }
        }
    }
    HeartConfig::default()
        .with_values(values.iter().map(|(k, v)| (*k, v.as_str())))
        .map_err(|errors| {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            let field = errors.first().and_then(|e| e.field()).map(Field::variable);
            let message = format!("invalid app configuration: {}", messages.join("; "));
            ApiResponse::error(500, &message, field)
        })
}

/// The environment variable a plain-WASI build reads for `variable`: `love_level` is
/// `HEART_LOVE_LEVEL`.
pub fn env_variable_name(variable: &str) -> String {
    format!("HEART_{}", variable.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_are_the_variables_upper_cased_under_heart() {
        assert_eq!(env_variable_name("love_level"), "HEART_LOVE_LEVEL");
        assert_eq!(
            env_variable_name("alert_threshold"),
            "HEART_ALERT_THRESHOLD"
        );
    }

    #[test]
    fn unset_variables_keep_defaults() {
        let config = config_from_variables(|_| Ok(None)).expect("defaults are valid");
        assert_eq!(config, HeartConfig::default());
    }

    #[test]
    fn set_variables_override_defaults() {
        let config = config_from_variables(|k| Ok((k == "love_level").then(|| "9".to_owned())))
            .expect("valid");
        assert_eq!(config.love_level.get(), 9);
    }

    #[test]
    fn invalid_variables_give_a_500_naming_the_value() {
        let response = config_from_variables(|k| Ok((k == "bpm").then(|| "500".to_owned())))
            .expect_err("bpm 500 is out of range");
        assert_eq!(response.status, 500);
        let body = String::from_utf8(response.body).expect("utf-8");
        assert!(
            body.contains("bpm `500` is out of range 30..=220"),
            "{body}"
        );
        assert!(body.contains("\"field\":\"bpm\""), "{body}");
    }

    #[test]
    fn lookup_failures_give_a_500() {
        let response = config_from_variables(|_| Err("store unavailable".to_owned()))
            .expect_err("lookup fails");
        assert_eq!(response.status, 500);
    }
}
