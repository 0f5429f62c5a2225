//! `spin.toml` (Spin manifest v2): the parts heart-host runs — application variables, HTTP
//! triggers, components with their variables, outbound allow-list and build command.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use heart_core::HeartConfig;
use heart_core::config::Field;
use serde::{Deserialize, Serialize};

/// Why a manifest could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not have the expected shape.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// The TOML error, with line, column and key.
        source: Box<toml::de::Error>,
    },
    /// Not a version 2 manifest.
    #[error("{path}: `spin_manifest_version` is {found}; heart-host reads version 2")]
    Version {
        /// The manifest path.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// A trigger names a component that is not declared.
    #[error(
        "{path}: trigger for route `{route}` names component `{component}`, which is not declared under [component]"
    )]
    UnknownComponent {
        /// The manifest path.
        path: PathBuf,
        /// The trigger's route.
        route: String,
        /// The missing component id.
        component: String,
    },
    /// A component whose source is not a local file.
    #[error(
        "{path}: component `{component}` has a remote `source`; heart-host runs local files only"
    )]
    RemoteSource {
        /// The manifest path.
        path: PathBuf,
        /// The component id.
        component: String,
    },
    /// No HTTP trigger is declared.
    #[error("{path}: no [[trigger.http]] is declared; nothing to serve")]
    NoHttpTriggers {
        /// The manifest path.
        path: PathBuf,
    },
    /// A route that is not `/…`.
    #[error("{path}: route `{route}` must start with `/`")]
    BadRoute {
        /// The manifest path.
        path: PathBuf,
        /// The route.
        route: String,
    },
}

/// The manifest, as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Manifest {
    /// Must be 2.
    pub spin_manifest_version: i64,
    /// Application metadata.
    pub application: Application,
    /// Application variables by name.
    #[serde(default)]
    pub variables: BTreeMap<String, VariableDecl>,
    /// Triggers by type.
    #[serde(default)]
    pub trigger: Triggers,
    /// Components by id.
    #[serde(default)]
    pub component: BTreeMap<String, ComponentDecl>,
}

/// `[application]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Application {
    /// Application name.
    pub name: String,
    /// Application version.
    #[serde(default)]
    pub version: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
}

/// One `[variables]` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct VariableDecl {
    /// Value used when no provider sets one.
    #[serde(default)]
    pub default: Option<String>,
    /// The app cannot start unless a provider sets it.
    #[serde(default)]
    pub required: bool,
    /// Never logged.
    #[serde(default)]
    pub secret: bool,
}

/// `[trigger]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Triggers {
    /// `[[trigger.http]]` entries.
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HttpTrigger {
    /// The route, e.g. `/...` or `/api/...`.
    pub route: RouteDecl,
    /// The component id that serves it.
    pub component: String,
}

/// A trigger route: a path pattern, or private (reachable only by service chaining).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RouteDecl {
    /// `/path`, `/prefix/...` or `/...`.
    Path(String),
    /// `{ private = true }`.
    Private {
        /// Always true for private routes.
        private: bool,
    },
}

/// One `[component.<id>]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ComponentDecl {
    /// Where the Wasm comes from.
    pub source: SourceDecl,
    /// Hosts the component may call; heart-host allows none and refuses outbound requests.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables, usually templates over application variables (`{{ name }}`).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// Environment variables visible to the component.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// How to build the component.
    #[serde(default)]
    pub build: Option<BuildDecl>,
}

/// A component source.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum SourceDecl {
    /// A path relative to the manifest.
    Path(String),
    /// A remote source (`{ url, digest }`), not supported by heart-host.
    Remote {
        /// The URL.
        url: String,
    },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct BuildDecl {
    /// The shell command.
    pub command: String,
    /// Directory to run it in, relative to the manifest.
    #[serde(default)]
    pub workdir: Option<String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// The manifest of an app made of one component, `id`, whose Wasm is at `/<id>`: every
    /// route (`/...`) goes to it; heart-display's settings (`love_level`, `bpm`, …) are its
    /// variables with heart-core's defaults, as the root `spin.toml` declares them; `environment`
    /// is its WASI environment. The containerd shim serves a container's Wasm this way.
    pub fn single_component(id: &str, environment: BTreeMap<String, String>) -> Self {
        let defaults = HeartConfig::default();
        let mut variables = BTreeMap::new();
        let mut templates = BTreeMap::new();
        for field in Field::CONFIG {
            let name = field.variable().to_owned();
            variables.insert(
                name.clone(),
                VariableDecl {
                    default: defaults.value_text(field),
                    ..VariableDecl::default()
                },
            );
            templates.insert(name.clone(), format!("{{{{ {name} }}}}"));
        }
        Manifest {
            spin_manifest_version: 2,
            application: Application {
                name: id.to_owned(),
                version: None,
                description: None,
            },
            variables,
            trigger: Triggers {
                http: vec![HttpTrigger {
                    route: RouteDecl::Path("/...".to_owned()),
                    component: id.to_owned(),
                }],
            },
            component: BTreeMap::from([(
                id.to_owned(),
                ComponentDecl {
                    source: SourceDecl::Path(id.to_owned()),
                    allowed_outbound_hosts: Vec::new(),
                    variables: templates,
                    environment,
                    build: None,
                },
            )]),
        }
    }

    /// The same app with every component's source set to `wasm` (best an absolute path): how
    /// tests and benchmarks serve another build of the component under the real manifest.
    pub fn serving(mut self, wasm: &Path) -> Self {
        for component in self.component.values_mut() {
            component.source = SourceDecl::Path(wasm.display().to_string());
        }
        self
    }

    /// The manifest as `spin.toml` text (comments and fields heart-host does not read are not
    /// kept).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest's plain tables and strings serialize")
    }

    /// Parses and checks manifest `text` (`path` is used in messages).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ManifestError> {
        let manifest: Manifest = toml::from_str(text).map_err(|source| ManifestError::Parse {
            path: path.to_owned(),
            source: Box::new(source),
        })?;
        manifest.check(path)?;
        Ok(manifest)
    }

    fn check(&self, path: &Path) -> Result<(), ManifestError> {
        if self.spin_manifest_version != 2 {
            return Err(ManifestError::Version {
                path: path.to_owned(),
                found: self.spin_manifest_version,
            });
        }
        if self.trigger.http.is_empty() {
            return Err(ManifestError::NoHttpTriggers {
                path: path.to_owned(),
            });
        }
        for trigger in &self.trigger.http {
            let route = match &trigger.route {
                RouteDecl::Path(route) => route.clone(),
                RouteDecl::Private { .. } => "(private)".to_owned(),
            };
            if let RouteDecl::Path(r) = &trigger.route
                && !r.starts_with('/')
            {
                return Err(ManifestError::BadRoute {
                    path: path.to_owned(),
                    route,
                });
            }
            let Some(component) = self.component.get(&trigger.component) else {
                return Err(ManifestError::UnknownComponent {
                    path: path.to_owned(),
                    route,
                    component: trigger.component.clone(),
                });
            };
            if let SourceDecl::Remote { .. } = component.source {
                return Err(ManifestError::RemoteSource {
                    path: path.to_owned(),
                    component: trigger.component.clone(),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
love_level = { default = "7" }
token = { required = true, secret = true }
[[trigger.http]]
route = "/..."
component = "heart"
[component.heart]
source = "dist/heart.wasm"
allowed_outbound_hosts = []
[component.heart.variables]
love_level = "{{ love_level }}"
[component.heart.build]
command = "cargo xtask build"
"#;

    #[test]
    fn serving_another_build_keeps_the_rest_of_the_app() {
        let manifest = Manifest::parse(Path::new("spin.toml"), GOOD).expect("valid");
        let text = manifest.serving(Path::new("/tmp/other.wasm")).to_toml();
        let again = Manifest::parse(Path::new("again.toml"), &text).expect("still valid");
        let heart = &again.component["heart"];
        assert!(matches!(&heart.source, SourceDecl::Path(p) if p == "/tmp/other.wasm"));
        assert_eq!(heart.variables["love_level"], "{{ love_level }}");
        assert!(again.variables["token"].required && again.variables["token"].secret);
        assert!(matches!(&again.trigger.http[0].route, RouteDecl::Path(r) if r == "/..."));
        assert_eq!(
            heart.build.as_ref().map(|b| b.command.as_str()),
            Some("cargo xtask build")
        );
    }

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("spin.toml"), text)
    }

    #[test]
    fn a_complete_manifest_parses() {
        let m = parse(GOOD).expect("valid");
        assert_eq!(m.application.name, "t");
        assert_eq!(m.variables["love_level"].default.as_deref(), Some("7"));
        assert!(m.variables["token"].required);
        assert_eq!(
            m.component["heart"].variables["love_level"],
            "{{ love_level }}"
        );
        assert_eq!(
            m.component["heart"]
                .build
                .as_ref()
                .map(|b| b.command.as_str()),
            Some("cargo xtask build")
        );
    }

    #[test]
    fn wrong_version_is_named() {
        let err = parse(&GOOD.replace("= 2", "= 1")).expect_err("v1");
        assert_eq!(
            err.to_string(),
            "spin.toml: `spin_manifest_version` is 1; heart-host reads version 2"
        );
    }

    #[test]
    fn unknown_component_is_named_with_its_route() {
        let err = parse(&GOOD.replace("component = \"heart\"", "component = \"lung\""))
            .expect_err("missing");
        assert!(
            err.to_string()
                .contains("route `/...` names component `lung`"),
            "{err}"
        );
    }

    #[test]
    fn toml_errors_carry_the_position_and_key() {
        let err = parse(&GOOD.replace(
            "love_level = { default = \"7\" }",
            "love_level = { default = 7 }",
        ))
        .expect_err("default must be a string");
        let text = err.to_string();
        assert!(text.starts_with("parsing spin.toml: "), "{text}");
        assert!(text.contains("line"), "{text}");
    }

    #[test]
    fn missing_triggers_and_remote_sources_are_refused() {
        let no_trigger = GOOD.replace(
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"heart\"\n",
            "",
        );
        assert!(matches!(
            parse(&no_trigger),
            Err(ManifestError::NoHttpTriggers { .. })
        ));
        let remote = GOOD.replace(
            "source = \"dist/heart.wasm\"",
            "source = { url = \"https://example.invalid/x.wasm\", digest = \"sha256:00\" }",
        );
        assert!(matches!(
            parse(&remote),
            Err(ManifestError::RemoteSource { .. })
        ));
    }

    #[test]
    fn single_component_declares_what_the_root_spin_toml_declares() {
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
            .join("../../spin.toml");
        let shipped = Manifest::load(&root).expect("root spin.toml");
        let single = Manifest::single_component("heart", BTreeMap::new());
        let defaults = |m: &Manifest| -> BTreeMap<String, Option<String>> {
            m.variables
                .iter()
                .map(|(k, v)| (k.clone(), v.default.clone()))
                .collect()
        };
        assert_eq!(defaults(&single), defaults(&shipped));
        assert_eq!(
            single.component["heart"].variables,
            shipped.component["heart"].variables
        );
        assert!(matches!(&single.trigger.http[0].route, RouteDecl::Path(r) if r == "/..."));
        single
            .check(Path::new("(single)"))
            .expect("a valid manifest");
    }
}
