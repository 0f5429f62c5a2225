//! `cargo xtask oci`: the app as OCI image-layout tarballs for containerd, in three forms:
//!
//! 1. rootfs (`dist/oci/heart-display.oci.tar`): a linux/amd64 image whose one tar layer holds
//!    the components; entrypoint `/heart_http.wasm`. Works with any containerd (Debian's
//!    1.6.20 too) and the heart shim; `/heart_validate.wasm` is the init container's command.
//! 2. Wasm artifact (`heart-display-wasm.oci.tar`): the CNCF Wasm OCI artifact layout — config
//!    `application/vnd.wasm.config.v0+json`, one `application/wasm` layer. containerd
//!    ≥ 1.6.25/1.7.7 imports it; 1.6.20 rejects its non-tar layer.
//! 3. Spin (`heart-display-spin.oci.tar`): the layout containerd-shim-spin (SpinKube) reads —
//!    config `application/vnd.fermyon.spin.application.v1+config` (the locked app) and
//!    `application/vnd.wasm.content.layer.v1+wasm` layers.
//!
//! Reproducible: fixed timestamps, owners and modes, sorted entries, sorted JSON maps — the same
//! components give the same digests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use oci_spec::image::{
    Arch, ConfigBuilder, Descriptor, Digest, ImageConfigurationBuilder, ImageIndexBuilder,
    ImageManifest, ImageManifestBuilder, MediaType, Os, PlatformBuilder, RootFsBuilder,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use heart_manifest::manifest::{Manifest, RouteDecl};
use heart_manifest::world::{self, Binary};

use crate::cmd::root;

/// Image name and tag (`ctr image import` names images after the index annotation).
pub const IMAGE: &str = "localhost/heart-display";
/// The tag: the workspace version.
pub const TAG: &str = env!("CARGO_PKG_VERSION");
/// A fixed creation time, so digests depend only on content.
const CREATED: &str = "2026-01-01T00:00:00Z";
/// The files of the rootfs layer, from `dist/`.
const ROOTFS_FILES: [&str; 3] = [
    "heart_http.wasm",
    "heart_http_env.wasm",
    "heart_validate.wasm",
];

/// One written artifact.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The tarball.
    pub path: PathBuf,
    /// The image reference it imports as.
    pub reference: String,
    /// The manifest digest.
    pub digest: String,
}

/// Builds all three forms from `dist/` into `out` (default `dist/oci/`).
pub fn build(out: Option<&Path>) -> Result<Vec<Artifact>> {
    let dist = root().join("dist");
    let out = out.map_or_else(|| dist.join("oci"), Path::to_owned);
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let read = |file: &str| {
        let path = dist.join(file);
        std::fs::read(&path)
            .with_context(|| format!("reading {} (run `cargo xtask build`)", path.display()))
    };
    let mut files = Vec::new();
    for file in ROOTFS_FILES {
        files.push((file, read(file)?));
    }
    let http = read("heart_http.wasm")?;
    let artifacts = vec![
        rootfs_form(&files, &out.join("heart-display.oci.tar"))?,
        wasm_form(&http, &out.join("heart-display-wasm.oci.tar"))?,
        spin_form(&http, &out.join("heart-display-spin.oci.tar"))?,
    ];
    for a in &artifacts {
        eprintln!("{}  {}  {}", a.reference, a.digest, a.path.display());
    }
    Ok(artifacts)
}

/// Content-addressed blobs of one image layout.
#[derive(Default)]
struct Blobs(BTreeMap<String, Vec<u8>>);

impl Blobs {
    fn add(&mut self, media_type: MediaType, bytes: Vec<u8>) -> Result<Descriptor> {
        let hex = sha256_hex(&bytes);
        let digest: Digest = format!("sha256:{hex}").parse()?;
        let size = bytes.len() as u64;
        self.0.insert(hex, bytes);
        Ok(Descriptor::new(media_type, size, digest))
    }

    fn add_json(
        &mut self,
        media_type: MediaType,
        value: &impl serde::Serialize,
    ) -> Result<Descriptor> {
        self.add(media_type, serde_json::to_vec(value)?)
    }

    /// Adds the manifest, writes the layout tarball and returns the artifact.
    fn finish(
        mut self,
        manifest: &impl serde::Serialize,
        platform: Option<oci_spec::image::Platform>,
        reference: String,
        path: &Path,
    ) -> Result<Artifact> {
        let mut descriptor = self.add_json(MediaType::ImageManifest, manifest)?;
        descriptor.set_platform(platform);
        descriptor.set_annotations(Some(
            [(
                "org.opencontainers.image.ref.name".to_owned(),
                reference.clone(),
            )]
            .into(),
        ));
        let digest = descriptor.digest().to_string();
        let index = ImageIndexBuilder::default()
            .schema_version(2u32)
            .media_type(MediaType::ImageIndex)
            .manifests(vec![descriptor])
            .build()?;
        let mut entries: Vec<(String, Vec<u8>)> = vec![
            (
                "oci-layout".to_owned(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            ("index.json".to_owned(), serde_json::to_vec(&index)?),
        ];
        for (hex, bytes) in self.0 {
            entries.push((format!("blobs/sha256/{hex}"), bytes));
        }
        std::fs::write(path, tar(&entries, &[])?)
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(Artifact {
            path: path.to_owned(),
            reference,
            digest,
        })
    }
}

fn rootfs_form(files: &[(&str, Vec<u8>)], path: &Path) -> Result<Artifact> {
    let config = ConfigBuilder::default()
        .entrypoint(vec!["/heart_http.wasm".to_owned()])
        .env(vec!["PORT=80".to_owned()])
        .exposed_ports(vec!["80/tcp".to_owned()])
        .working_dir("/".to_owned())
        .build()?;
    linux_image(files, &[], config, format!("{IMAGE}:{TAG}"), path)
}

/// A pod sandbox (pause) image for the node tests: one static binary, `/pause`, as its
/// entrypoint, imported as `reference`.
pub fn pause_image(binary: Vec<u8>, reference: &str, path: &Path) -> Result<Artifact> {
    let config = ConfigBuilder::default()
        .entrypoint(vec!["/pause".to_owned()])
        .working_dir("/".to_owned())
        .build()?;
    linux_image(
        &[("pause", binary)],
        &["pause"],
        config,
        reference.to_owned(),
        path,
    )
}

/// The node installer's image (the chart's `nodeInstaller`): the static installer program as
/// its entrypoint and the release shim it copies onto the node, imported as `reference`.
pub fn installer_image(
    installer: Vec<u8>,
    shim: Vec<u8>,
    reference: &str,
    path: &Path,
) -> Result<Artifact> {
    let config = ConfigBuilder::default()
        .entrypoint(vec!["/heart-node-installer".to_owned()])
        .working_dir("/".to_owned())
        .build()?;
    let files = [
        ("heart-node-installer", installer),
        ("containerd-shim-heart-v1", shim),
    ];
    linux_image(
        &files,
        &["heart-node-installer", "containerd-shim-heart-v1"],
        config,
        reference.to_owned(),
        path,
    )
}

/// A linux/amd64 image of one tar layer holding `files` (`executables` among them get mode
/// 0755) with the runtime `config`.
fn linux_image(
    files: &[(&str, Vec<u8>)],
    executables: &[&str],
    config: oci_spec::image::Config,
    reference: String,
    path: &Path,
) -> Result<Artifact> {
    let entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(name, bytes)| ((*name).to_owned(), bytes.clone()))
        .collect();
    let layer = tar(&entries, executables)?;
    let diff_id = format!("sha256:{}", sha256_hex(&layer));
    let mut blobs = Blobs::default();
    let layer = blobs.add(MediaType::ImageLayer, layer)?;
    let config = ImageConfigurationBuilder::default()
        .created(CREATED.to_owned())
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .config(config)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers".to_owned())
                .diff_ids(vec![diff_id])
                .build()?,
        )
        .build()?;
    let config = blobs.add_json(MediaType::ImageConfig, &config)?;
    let manifest = image_manifest(config, layer, None)?;
    let platform = PlatformBuilder::default()
        .architecture(Arch::Amd64)
        .os(Os::Linux)
        .build()?;
    blobs.finish(&manifest, Some(platform), reference, path)
}

fn wasm_form(http: &[u8], path: &Path) -> Result<Artifact> {
    let mut blobs = Blobs::default();
    let layer = blobs.add(
        MediaType::Other("application/wasm".to_owned()),
        http.to_vec(),
    )?;
    let wit = component_world(http)?;
    // The CNCF Wasm OCI artifact config (tag-runtime wasm-oci-artifact).
    let config = json!({
        "created": CREATED,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer.digest().to_string()],
        "component": wit,
    });
    let config_type = MediaType::Other("application/vnd.wasm.config.v0+json".to_owned());
    let config = blobs.add_json(config_type.clone(), &config)?;
    let manifest = image_manifest(config, layer, Some(config_type))?;
    let platform = PlatformBuilder::default()
        .architecture(Arch::Other("wasm".to_owned()))
        .os(Os::Other("wasip2".to_owned()))
        .build()?;
    blobs.finish(
        &manifest,
        Some(platform),
        format!("{IMAGE}:{TAG}-wasm"),
        path,
    )
}

fn spin_form(http: &[u8], path: &Path) -> Result<Artifact> {
    let mut blobs = Blobs::default();
    let layer = blobs.add(
        MediaType::Other("application/vnd.wasm.content.layer.v1+wasm".to_owned()),
        http.to_vec(),
    )?;
    let app = Manifest::load(&root().join("spin.toml"))?;
    let locked = locked_app(&app, layer.digest().as_ref())?;
    let config = blobs.add_json(
        MediaType::Other("application/vnd.fermyon.spin.application.v1+config".to_owned()),
        &locked,
    )?;
    let manifest = image_manifest(config, layer, None)?;
    blobs.finish(&manifest, None, format!("{IMAGE}:{TAG}-spin"), path)
}

/// An image manifest of one config and one layer.
fn image_manifest(
    config: Descriptor,
    layer: Descriptor,
    artifact_type: Option<MediaType>,
) -> Result<ImageManifest> {
    let builder = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(config)
        .layers(vec![layer]);
    let builder = match artifact_type {
        Some(artifact_type) => builder.artifact_type(artifact_type),
        None => builder,
    };
    Ok(builder.build()?)
}

/// The Spin locked app (`spin_lock_version` 1) for `manifest`, read with heart-manifest as
/// heart-host reads it: its variables, routes and components, the one component's source
/// pointing at the layer `digest` (the artifact carries one Wasm layer).
fn locked_app(manifest: &Manifest, digest: &str) -> Result<serde_json::Value> {
    if manifest.component.len() != 1 {
        bail!(
            "the Spin artifact carries one Wasm layer, but spin.toml declares {} components",
            manifest.component.len()
        );
    }
    let variables: serde_json::Map<String, serde_json::Value> = manifest
        .variables
        .iter()
        .map(|(name, decl)| (name.clone(), json!({ "default": decl.default })))
        .collect();
    let triggers: Vec<serde_json::Value> = manifest
        .trigger
        .http
        .iter()
        .map(|trigger| {
            let route = match &trigger.route {
                RouteDecl::Path(route) => json!(route),
                RouteDecl::Private { private } => json!({ "private": private }),
            };
            json!({
                "id": format!("trigger--{}", trigger.component),
                "trigger_type": "http",
                "trigger_config": { "route": route, "component": trigger.component },
            })
        })
        .collect();
    let components: Vec<serde_json::Value> = manifest
        .component
        .iter()
        .map(|(id, component)| {
            json!({
                "id": id,
                "source": {
                    "content_type": "application/wasm",
                    "content": { "digest": digest },
                },
                "config": component.variables,
            })
        })
        .collect();
    let app = &manifest.application;
    Ok(json!({
        "spin_lock_version": 1,
        "metadata": {
            "name": app.name,
            "version": app.version,
            "description": app.description,
            "origin": "file:///spin.toml",
            "trigger": { "type": "http" },
        },
        "variables": variables,
        "triggers": triggers,
        "components": components,
    }))
}

/// The component's world in the artifact config's `component` shape: import and export names.
fn component_world(wasm: &[u8]) -> Result<serde_json::Value> {
    let Binary::Component(world) = world::read(wasm)? else {
        bail!("the HTTP build is a core module, not a component");
    };
    Ok(json!({ "imports": world.imports, "exports": world.exports, "target": null }))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A tar of `entries` (sorted, with parent directories) with fixed metadata: mode 0644, or 0755
/// for the names in `executables`.
fn tar(entries: &[(String, Vec<u8>)], executables: &[&str]) -> Result<Vec<u8>> {
    let mut sorted: Vec<&(String, Vec<u8>)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut builder = tar::Builder::new(Vec::new());
    let mut dirs = std::collections::BTreeSet::new();
    for (name, bytes) in sorted {
        let mut parent = Path::new(name).parent();
        let mut missing = Vec::new();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if dirs.insert(p.to_owned()) {
                missing.push(p.to_owned());
            }
            parent = p.parent();
        }
        for dir in missing.into_iter().rev() {
            let mut header = header(0, 0o755, tar::EntryType::Directory);
            builder.append_data(&mut header, &dir, std::io::empty())?;
        }
        let mode = if executables.contains(&name.as_str()) {
            0o755
        } else {
            0o644
        };
        let mut header = header(bytes.len() as u64, mode, tar::EntryType::Regular);
        builder.append_data(&mut header, name, bytes.as_slice())?;
    }
    Ok(builder.into_inner()?)
}

fn header(size: u64, mode: u32, kind: tar::EntryType) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(mode);
    header.set_entry_type(kind);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tars_are_byte_identical_for_the_same_entries_in_any_order() {
        let a = vec![
            ("b/x".to_owned(), b"1".to_vec()),
            ("a".to_owned(), b"22".to_vec()),
        ];
        let b: Vec<_> = a.iter().rev().cloned().collect();
        assert_eq!(tar(&a, &[]).expect("tar"), tar(&b, &[]).expect("tar"));
        let names: Vec<String> = tar::Archive::new(tar(&a, &[]).expect("tar").as_slice())
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(names, ["a", "b", "b/x"]);
    }

    #[test]
    fn the_locked_app_carries_the_manifest_variables_and_route() {
        let manifest = Manifest::load(&root().join("spin.toml")).expect("spin.toml");
        let locked = locked_app(&manifest, "sha256:00").expect("locked");
        assert_eq!(locked["variables"]["love_level"]["default"], "7");
        assert_eq!(locked["triggers"][0]["trigger_config"]["route"], "/...");
        assert_eq!(
            locked["components"][0]["source"]["content"]["digest"],
            "sha256:00"
        );
        assert_eq!(locked["components"][0]["config"]["bpm"], "{{ bpm }}");
    }

    /// The blobs of a layout tarball, by path, and its index.
    fn read_layout(path: &Path) -> (serde_json::Value, BTreeMap<String, Vec<u8>>) {
        let bytes = std::fs::read(path).expect("layout");
        let mut files = BTreeMap::new();
        for entry in tar::Archive::new(bytes.as_slice()).entries().expect("tar") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").display().to_string();
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).expect("read");
            files.insert(name, content);
        }
        let index = serde_json::from_slice(&files["index.json"]).expect("index.json");
        (index, files)
    }

    fn blob(files: &BTreeMap<String, Vec<u8>>, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").expect("sha256");
        let bytes = files[&format!("blobs/sha256/{hex}")].clone();
        assert_eq!(sha256_hex(&bytes), hex, "blob content matches its digest");
        bytes
    }

    #[test]
    fn artifacts_are_reproducible_and_well_formed() {
        if !root().join("dist/heart_http.wasm").is_file() {
            panic!("dist/ is not built: run `cargo xtask build` (cargo xtask test does)");
        }
        let (a, b) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let first = build(Some(a.path())).expect("oci");
        let second = build(Some(b.path())).expect("oci");
        for (x, y) in first.iter().zip(&second) {
            assert_eq!(x.digest, y.digest, "{}", x.reference);
            assert_eq!(
                std::fs::read(&x.path).expect("tar"),
                std::fs::read(&y.path).expect("tar"),
                "{}: byte-identical tarballs",
                x.reference
            );
        }

        let layer_types = |path: &Path| {
            let (index, files) = read_layout(path);
            let manifest_digest = index["manifests"][0]["digest"].as_str().expect("digest");
            let manifest: serde_json::Value =
                serde_json::from_slice(&blob(&files, manifest_digest)).expect("manifest");
            let config_type = manifest["config"]["mediaType"]
                .as_str()
                .expect("type")
                .to_owned();
            let config: serde_json::Value = serde_json::from_slice(&blob(
                &files,
                manifest["config"]["digest"].as_str().expect("digest"),
            ))
            .expect("config");
            let layers: Vec<String> = manifest["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .map(|l| {
                    blob(&files, l["digest"].as_str().expect("digest"));
                    l["mediaType"].as_str().expect("type").to_owned()
                })
                .collect();
            (index, config_type, config, layers)
        };
        let (index, config_type, config, layers) = layer_types(&first[0].path);
        assert_eq!(
            index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
            format!("{IMAGE}:{TAG}")
        );
        assert_eq!(config_type, "application/vnd.oci.image.config.v1+json");
        assert_eq!(config["config"]["Entrypoint"][0], "/heart_http.wasm");
        assert_eq!(
            (config["os"].as_str(), config["architecture"].as_str()),
            (Some("linux"), Some("amd64"))
        );
        assert_eq!(layers, ["application/vnd.oci.image.layer.v1.tar"]);

        let (_, config_type, config, layers) = layer_types(&first[1].path);
        assert_eq!(config_type, "application/vnd.wasm.config.v0+json");
        assert_eq!(layers, ["application/wasm"]);
        assert!(
            config["component"]["exports"]
                .as_array()
                .expect("exports")
                .iter()
                .any(|e| e
                    .as_str()
                    .is_some_and(|e| e.starts_with("wasi:http/incoming-handler@0.2"))),
            "{config}"
        );

        let (_, config_type, config, layers) = layer_types(&first[2].path);
        assert_eq!(
            config_type,
            "application/vnd.fermyon.spin.application.v1+config"
        );
        assert_eq!(layers, ["application/vnd.wasm.content.layer.v1+wasm"]);
        assert_eq!(config["spin_lock_version"], 1);
    }
}
