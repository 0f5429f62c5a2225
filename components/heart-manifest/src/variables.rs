//! Application and component variables, resolved in layers: `[variables]` defaults, then a
//! config directory (a mounted ConfigMap), then `SPIN_VARIABLE_<NAME>` environment variables
//! (as Spin does), then expanded into each component's `{{ name }}` templates.

use std::collections::BTreeMap;

use heart_core::config::{ConfigError, Field, HeartConfig};

use crate::manifest::VariableDecl;

/// Why variables could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// A required variable has no value.
    #[error("application variable `{name}` is required but not set (set SPIN_VARIABLE_{env})")]
    Required {
        /// The variable.
        name: String,
        /// Its environment-variable suffix.
        env: String,
    },
    /// A component template names an undeclared application variable.
    #[error(
        "component variable `{variable}` refers to `{{{{ {name} }}}}`, which is not declared under [variables]"
    )]
    Undeclared {
        /// The component variable.
        variable: String,
        /// The missing application variable.
        name: String,
    },
    /// A template with an unclosed `{{`.
    #[error("component variable `{variable}` has an unclosed `{{{{` in `{template}`")]
    Unclosed {
        /// The component variable.
        variable: String,
        /// The template.
        template: String,
    },
}

/// The environment-variable name that overrides application variable `name`.
pub fn env_name(name: &str) -> String {
    format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase())
}

/// The `SPIN_VARIABLE_<NAME>` overrides `lookup` has for the declared variables.
pub fn env_overrides<F>(
    declared: &BTreeMap<String, VariableDecl>,
    lookup: F,
) -> BTreeMap<String, String>
where
    F: Fn(&str) -> Option<String>,
{
    declared
        .keys()
        .filter_map(|name| lookup(&env_name(name)).map(|v| (name.clone(), v)))
        .collect()
}

/// Resolves application variables: defaults < `dir` (config directory) < `env` overrides.
/// Values for undeclared names are ignored.
pub fn resolve_app(
    declared: &BTreeMap<String, VariableDecl>,
    dir: &BTreeMap<String, String>,
    env: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, VariableError> {
    let mut values = BTreeMap::new();
    for (name, decl) in declared {
        let value = env
            .get(name)
            .or_else(|| dir.get(name))
            .cloned()
            .or_else(|| decl.default.clone());
        match value {
            Some(v) => {
                values.insert(name.clone(), v);
            }
            None if decl.required => {
                return Err(VariableError::Required {
                    name: name.clone(),
                    env: name.to_ascii_uppercase(),
                });
            }
            None => {}
        }
    }
    Ok(values)
}

/// The heart-display settings among a component's expanded variables (names matched as
/// [`Field::from_key`] matches them; other variables ignored), validated: the host's start-up
/// check, so a bad value stops the start instead of failing every request.
pub fn heart_settings(values: &BTreeMap<String, String>) -> Result<HeartConfig, Vec<ConfigError>> {
    let pairs = values
        .iter()
        .filter(|(k, _)| Field::from_key(k).is_some())
        .map(|(k, v)| (k.as_str(), v.as_str()));
    HeartConfig::default().with_values(pairs)
}

/// Expands `{{ name }}` templates in a component's variables with application values.
pub fn expand_component(
    templates: &BTreeMap<String, String>,
    app: &BTreeMap<String, String>,
    declared: &BTreeMap<String, VariableDecl>,
) -> Result<BTreeMap<String, String>, VariableError> {
    let mut out = BTreeMap::new();
    for (variable, template) in templates {
        let mut rest = template.as_str();
        let mut value = String::new();
        while let Some(start) = rest.find("{{") {
            value.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or_else(|| VariableError::Unclosed {
                variable: variable.clone(),
                template: template.clone(),
            })?;
            let name = after[..end].trim();
            if !declared.contains_key(name) {
                return Err(VariableError::Undeclared {
                    variable: variable.clone(),
                    name: name.to_owned(),
                });
            }
            value.push_str(app.get(name).map(String::as_str).unwrap_or_default());
            rest = &after[end + 2..];
        }
        value.push_str(rest);
        out.insert(variable.clone(), value);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> BTreeMap<String, VariableDecl> {
        BTreeMap::from([
            (
                "love_level".to_owned(),
                VariableDecl {
                    default: Some("7".into()),
                    ..Default::default()
                },
            ),
            ("token".to_owned(), VariableDecl::default()),
        ])
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn env_overrides_are_read_for_declared_names_only() {
        let env = env_overrides(&declared(), |k| {
            matches!(k, "SPIN_VARIABLE_LOVE_LEVEL" | "SPIN_VARIABLE_OTHER").then(|| "9".into())
        });
        assert_eq!(env, map(&[("love_level", "9")]));
    }

    #[test]
    fn layers_apply_defaults_then_directory_then_env() {
        let d = declared();
        let app = resolve_app(&d, &BTreeMap::new(), &BTreeMap::new()).expect("resolves");
        assert_eq!(app["love_level"], "7");
        assert!(
            !app.contains_key("token"),
            "unset optional variable stays unset"
        );
        let app =
            resolve_app(&d, &map(&[("love_level", "8")]), &BTreeMap::new()).expect("resolves");
        assert_eq!(app["love_level"], "8", "the directory beats the default");
        let dir = map(&[("love_level", "8")]);
        let app = resolve_app(&d, &dir, &map(&[("love_level", "9")])).expect("resolves");
        assert_eq!(
            app["love_level"], "9",
            "the environment beats the directory"
        );
    }

    #[test]
    fn required_variables_must_be_set() {
        let mut d = declared();
        d.insert(
            "secret".into(),
            VariableDecl {
                required: true,
                ..Default::default()
            },
        );
        let err =
            resolve_app(&d, &BTreeMap::new(), &BTreeMap::new()).expect_err("secret is required");
        assert_eq!(
            err.to_string(),
            "application variable `secret` is required but not set (set SPIN_VARIABLE_SECRET)"
        );
    }

    #[test]
    fn heart_settings_validate_known_names_and_ignore_the_rest() {
        let config = heart_settings(&map(&[("love-level", "9"), ("greeting", "hi")]))
            .expect("valid settings");
        assert_eq!(config.love_level.get(), 9);
        let errors = heart_settings(&map(&[("bpm", "fast"), ("love_level", "11")]))
            .expect_err("two bad values");
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages
                .iter()
                .any(|m| m.contains("love level `11` is out of range 1..=10")),
            "{messages:?}"
        );
    }

    #[test]
    fn templates_expand_with_surrounding_text() {
        let app = BTreeMap::from([("love_level".to_owned(), "7".to_owned())]);
        let t = BTreeMap::from([("msg".to_owned(), "love={{love_level}}/10".to_owned())]);
        let out = expand_component(&t, &app, &declared()).expect("expands");
        assert_eq!(out["msg"], "love=7/10");
    }

    #[test]
    fn templates_naming_undeclared_variables_are_refused() {
        let t = BTreeMap::from([("x".to_owned(), "{{ mood }}".to_owned())]);
        let err = expand_component(&t, &BTreeMap::new(), &declared()).expect_err("undeclared");
        assert_eq!(
            err.to_string(),
            "component variable `x` refers to `{{ mood }}`, which is not declared under [variables]"
        );
        let t = BTreeMap::from([("x".to_owned(), "{{ love_level".to_owned())]);
        assert!(matches!(
            expand_component(&t, &BTreeMap::new(), &declared()),
            Err(VariableError::Unclosed { .. })
        ));
    }
}
