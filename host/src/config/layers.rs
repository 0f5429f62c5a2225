//! The app's configuration as requests see it. One [`LayeredConfig`] owns the layers (the
//! manifest's declared variables and defaults, the config directory, `SPIN_VARIABLE_*`), each
//! component's variable templates, the single config generation, and every component's
//! snapshot. A reload re-layers all of them at once and swaps the whole state, so a request
//! sees one generation's values, and a bad change leaves the last good state serving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use heart_manifest::manifest::VariableDecl;
use heart_manifest::variables::{self, VariableError};

use crate::config::dir::{self, ConfigDirError, ConfigDirValues};

/// One component's variables as of one generation: cheap to clone, never changes.
pub type Snapshot = Arc<Variables>;

/// One component's variable values and the config generation they belong to. Reads as the
/// map of values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    /// The config generation ([`LayeredConfig::generation`]).
    pub generation: u64,
    values: BTreeMap<String, String>,
}

impl std::ops::Deref for Variables {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.values
    }
}

/// Why a configuration could not be made or applied.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config directory is unreadable or invalid.
    #[error(transparent)]
    Dir(#[from] ConfigDirError),
    /// The variables could not be resolved for the app or a component.
    #[error("component `{component}`: {source}")]
    Variables {
        /// The component id, or `(application)`.
        component: String,
        /// The problem.
        source: VariableError,
    },
    /// A component's variables are not valid heart-display settings.
    #[error(
        "component `{component}` has invalid variables (from the manifest, the config directory or SPIN_VARIABLE_*): {messages}"
    )]
    InvalidHeartSettings {
        /// The component id.
        component: String,
        /// Every problem, `; `-separated.
        messages: String,
    },
}

/// The layers that do not change while the app runs.
#[derive(Debug)]
struct Layers {
    declared: BTreeMap<String, VariableDecl>,
    env_values: BTreeMap<String, String>,
    /// Each component's id and variable templates, by slot.
    components: Vec<(String, BTreeMap<String, String>)>,
    dir: Option<PathBuf>,
}

/// Everything one generation resolved to.
#[derive(Debug)]
struct State {
    generation: u64,
    dir_values: ConfigDirValues,
    app_values: Arc<BTreeMap<String, String>>,
    components: Vec<Snapshot>,
}

/// The app's live configuration.
#[derive(Debug)]
pub struct LayeredConfig {
    layers: Layers,
    current: RwLock<Arc<State>>,
}

impl LayeredConfig {
    /// Resolves generation 1: the config directory `dir` (if any) read now, layered between
    /// the `declared` defaults and `env_values`, and expanded into each component's
    /// `(id, templates)`, whose position is its slot.
    pub fn new(
        declared: BTreeMap<String, VariableDecl>,
        env_values: BTreeMap<String, String>,
        dir: Option<PathBuf>,
        components: Vec<(String, BTreeMap<String, String>)>,
    ) -> Result<Self, ConfigError> {
        let dir_values = match &dir {
            Some(dir) => dir::read(dir)?,
            None => ConfigDirValues::default(),
        };
        let layers = Layers {
            declared,
            env_values,
            components,
            dir,
        };
        let state = layers.resolve(dir_values, 1)?;
        Ok(Self {
            layers,
            current: RwLock::new(Arc::new(state)),
        })
    }

    fn current(&self) -> Arc<State> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The variables of the component in `slot`, as of now.
    pub fn snapshot(&self, slot: usize) -> Snapshot {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        current.components[slot].clone()
    }

    /// The application variables, as of now.
    pub fn app_values(&self) -> Arc<BTreeMap<String, String>> {
        self.current().app_values.clone()
    }

    /// The config generation: 1 at start, +1 per applied change.
    pub fn generation(&self) -> u64 {
        self.current().generation
    }

    /// The config directory, if one was given.
    pub fn dir(&self) -> Option<&Path> {
        self.layers.dir.as_deref()
    }

    /// The config-directory values the current generation was made from.
    pub fn dir_values(&self) -> ConfigDirValues {
        self.current().dir_values.clone()
    }

    /// Re-layers every component with new config-directory `values`, all or nothing: on error
    /// nothing changes. Returns the new generation.
    pub(crate) fn apply_dir(&self, values: ConfigDirValues) -> Result<u64, ConfigError> {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        let next = self.layers.resolve(values, current.generation + 1)?;
        let generation = next.generation;
        *current = Arc::new(next);
        Ok(generation)
    }

    /// Every component's variables, as requests see them, are valid heart-display settings
    /// (love level, bpm, colour, size, alert threshold in range).
    pub fn check_heart_settings(&self) -> Result<(), ConfigError> {
        let current = self.current();
        for ((id, _), snapshot) in self.layers.components.iter().zip(&current.components) {
            if let Err(errors) = variables::heart_settings(snapshot) {
                let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
                return Err(ConfigError::InvalidHeartSettings {
                    component: id.clone(),
                    messages: messages.join("; "),
                });
            }
        }
        Ok(())
    }
}

impl Layers {
    fn resolve(&self, dir_values: ConfigDirValues, generation: u64) -> Result<State, ConfigError> {
        let app_values = variables::resolve_app(&self.declared, &dir_values.0, &self.env_values)
            .map_err(|source| ConfigError::Variables {
                component: "(application)".into(),
                source,
            })?;
        let components = self
            .components
            .iter()
            .map(|(id, templates)| {
                variables::expand_component(templates, &app_values, &self.declared)
                    .map(|values| Arc::new(Variables { generation, values }))
                    .map_err(|source| ConfigError::Variables {
                        component: id.clone(),
                        source,
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(State {
            generation,
            dir_values,
            app_values: Arc::new(app_values),
            components,
        })
    }
}

/// One component's view of the live configuration: what its instances read their variables
/// from.
#[derive(Debug, Clone)]
pub(crate) struct ComponentConfig {
    live: Arc<LayeredConfig>,
    slot: usize,
}

impl ComponentConfig {
    /// The component in `slot` of `live`.
    pub(crate) fn new(live: Arc<LayeredConfig>, slot: usize) -> Self {
        Self { live, slot }
    }

    /// Its variables, as of now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.live.snapshot(self.slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(text: &str) -> VariableDecl {
        toml::from_str(text).expect("a variable declaration")
    }

    /// bpm defaults to 72; alert_threshold must come from the config directory.
    fn config(dir: &Path) -> LayeredConfig {
        let declared = BTreeMap::from([
            ("bpm".to_owned(), decl("default = \"72\"")),
            ("alert_threshold".to_owned(), decl("required = true")),
        ]);
        let templates = BTreeMap::from([("bpm".to_owned(), "{{ bpm }}".to_owned())]);
        LayeredConfig::new(
            declared,
            BTreeMap::new(),
            Some(dir.to_owned()),
            vec![("a".into(), templates.clone()), ("b".into(), templates)],
        )
        .expect("valid layers")
    }

    fn values(pairs: &[(&str, &str)]) -> ConfigDirValues {
        ConfigDirValues(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    fn dir_with_threshold() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("alert-threshold"), "5").expect("write");
        dir
    }

    #[test]
    fn a_change_reaches_every_component_in_one_generation() {
        let dir = dir_with_threshold();
        let live = config(dir.path());
        let before = live.snapshot(0);
        assert_eq!(live.generation(), 1);
        assert_eq!(live.dir_values(), values(&[("alert_threshold", "5")]));
        let next = values(&[("alert_threshold", "5"), ("bpm", "90")]);
        assert_eq!(live.apply_dir(next.clone()).expect("applies"), 2);
        assert_eq!(before["bpm"], "72", "old snapshots are unchanged");
        assert_eq!(live.snapshot(0)["bpm"], "90");
        assert_eq!(
            (before.generation, live.snapshot(0).generation),
            (1, 2),
            "each snapshot knows its generation"
        );
        assert_eq!(live.snapshot(1)["bpm"], "90");
        assert_eq!(live.app_values()["bpm"], "90");
        assert_eq!(live.dir_values(), next);
        assert_eq!(live.generation(), 2);
    }

    #[test]
    fn a_bad_change_leaves_the_last_good_generation() {
        let dir = dir_with_threshold();
        let live = config(dir.path());
        live.apply_dir(values(&[("alert_threshold", "5"), ("bpm", "90")]))
            .expect("applies");
        let err = live
            .apply_dir(values(&[("bpm", "60")]))
            .expect_err("the required threshold is gone");
        assert!(err.to_string().contains("alert_threshold"), "{err}");
        assert_eq!(live.generation(), 2);
        assert_eq!(live.snapshot(1)["bpm"], "90");
    }

    #[test]
    fn settings_out_of_range_are_named_with_their_component() {
        let dir = dir_with_threshold();
        let live = config(dir.path());
        live.check_heart_settings().expect("72 is a valid bpm");
        live.apply_dir(values(&[("alert_threshold", "5"), ("bpm", "500")]))
            .expect("the layers accept any text");
        let err = live
            .check_heart_settings()
            .expect_err("bpm 500 is out of range");
        let text = err.to_string();
        assert!(
            text.contains("component `a`") && text.contains("500"),
            "{text}"
        );
    }
}
