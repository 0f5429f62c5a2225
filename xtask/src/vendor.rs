//! `cargo xtask vendor --check | --write-patches`: the patched crates under `third_party/` are
//! the crates.io release plus their `.patch`, verified against the registry.
//!
//! For each crate `third_party/vendor.toml` names, the check has cargo fetch the release's
//! `.crate` (as any build would), checks its SHA-256 against the pin, unpacks it, removes the
//! files listed as not read by Cargo, applies the patch with `git apply`, and compares the result
//! with the committed tree file by file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use crate::cmd::{cargo, root, run};

/// `third_party/vendor.toml`.
#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(rename = "crate")]
    crates: Vec<Vendored>,
}

/// One patched release.
#[derive(Debug, Deserialize)]
struct Vendored {
    name: String,
    version: String,
    /// SHA-256 of the registry's `.crate`, hex.
    sha256: String,
    /// The patch file, beside the tree.
    patch: String,
    /// Paths (folders end in `/`) of the release that are not kept.
    dropped: Vec<String>,
}

impl Vendored {
    fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

fn third_party() -> PathBuf {
    root().join("third_party")
}

fn manifest() -> Result<Manifest> {
    let path = third_party().join("vendor.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Checks every vendored crate; fails naming each file that differs from release + patch.
pub fn check() -> Result<()> {
    let manifest = manifest()?;
    let work = tempfile::tempdir().context("a temp dir")?;
    fetch(&manifest.crates, work.path())?;
    let mut problems = Vec::new();
    for vendored in &manifest.crates {
        let pristine = pristine(vendored, work.path())?;
        apply_patch(&pristine, &third_party().join(&vendored.patch))?;
        let tree = third_party().join(vendored.dir_name());
        problems.extend(
            differences(&pristine, &tree)?
                .into_iter()
                .map(|d| format!("third_party/{}: {d}", vendored.dir_name())),
        );
    }
    ensure!(
        problems.is_empty(),
        "the vendored crates are not the release plus their patch:\n  {}",
        problems.join("\n  ")
    );
    eprintln!(
        "vendor: {} crates are their crates.io release plus their patch",
        manifest.crates.len()
    );
    Ok(())
}

/// Rewrites each `.patch`'s diff from the committed tree, keeping its header (the text before
/// the first `--- a/` line: the reason and "drop when").
pub fn write_patches() -> Result<()> {
    let manifest = manifest()?;
    let work = tempfile::tempdir().context("a temp dir")?;
    fetch(&manifest.crates, work.path())?;
    for vendored in &manifest.crates {
        let pristine = pristine(vendored, work.path())?;
        let tree = third_party().join(vendored.dir_name());
        let patch_path = third_party().join(&vendored.patch);
        let old = std::fs::read_to_string(&patch_path).unwrap_or_default();
        let header = old.find("--- a/").map_or(old.as_str(), |at| &old[..at]);
        let mut patch = header.to_owned();
        for relative in files(&pristine)?.union(&files(&tree)?) {
            patch.push_str(&unified_diff(&pristine, &tree, relative)?);
        }
        std::fs::write(&patch_path, patch)
            .with_context(|| format!("writing {}", patch_path.display()))?;
        eprintln!("wrote {}", patch_path.display());
    }
    Ok(())
}

/// The release (fetched already) unpacked under `work`, its hash checked and its dropped files
/// removed.
fn pristine(vendored: &Vendored, work: &Path) -> Result<PathBuf> {
    let crate_file = cached_crate(vendored)?;
    let bytes =
        std::fs::read(&crate_file).with_context(|| format!("reading {}", crate_file.display()))?;
    let digest = crate::oci::sha256_hex(&bytes);
    ensure!(
        digest == vendored.sha256,
        "{}: SHA-256 {digest}, but third_party/vendor.toml pins {}",
        crate_file.display(),
        vendored.sha256
    );
    let unpacked = work.join("pristine");
    tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()))
        .unpack(&unpacked)
        .with_context(|| format!("unpacking {}", crate_file.display()))?;
    let dir = unpacked.join(vendored.dir_name());
    for dropped in &vendored.dropped {
        let path = dir.join(dropped.trim_end_matches('/'));
        let removed = if dropped.ends_with('/') {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.with_context(|| {
            format!(
                "{dropped} (listed as dropped) is not in the release: remove it from vendor.toml"
            )
        })?;
    }
    Ok(dir)
}

/// Has cargo fetch every release's `.crate` into its cache, in one call (a throwaway package
/// that depends on exactly those versions).
fn fetch(crates: &[Vendored], work: &Path) -> Result<()> {
    let package = work.join("fetch-vendored");
    std::fs::create_dir_all(package.join("src"))?;
    std::fs::write(package.join("src/lib.rs"), "")?;
    let dependencies: String = crates
        .iter()
        .map(|c| {
            format!(
                "{} = {{ version = \"={}\", default-features = false }}\n",
                c.name, c.version
            )
        })
        .collect();
    std::fs::write(
        package.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-vendored\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n{dependencies}\n[workspace]\n"
        ),
    )?;
    run(cargo()
        .arg("fetch")
        .arg("--manifest-path")
        .arg(package.join("Cargo.toml"))
        .args(["--target", "x86_64-unknown-linux-gnu"]))
}

/// The release's `.crate` in cargo's cache ([`fetch`] put it there).
fn cached_crate(vendored: &Vendored) -> Result<PathBuf> {
    let cache = cargo_home().join("registry/cache");
    let file = format!("{}.crate", vendored.dir_name());
    for registry in std::fs::read_dir(&cache)
        .with_context(|| format!("reading {}", cache.display()))?
        .filter_map(Result::ok)
    {
        let candidate = registry.path().join(&file);
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    bail!("cargo fetched, but {file} is not under {}", cache.display())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cargo"),
        PathBuf::from,
    )
}

/// Applies `patch` to the tree at `dir`.
fn apply_patch(dir: &Path, patch: &Path) -> Result<()> {
    let status = Command::new("git")
        .args(["apply", "--whitespace=nowarn"])
        .arg(patch)
        .current_dir(dir)
        .status()
        .context("starting git apply")?;
    ensure!(
        status.success(),
        "{} does not apply to the release ({status})",
        patch.display()
    );
    Ok(())
}

/// Every file below `dir`, relative to it.
fn files(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut found = BTreeSet::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(current) = todo.pop() {
        for entry in
            std::fs::read_dir(&current).with_context(|| format!("reading {}", current.display()))?
        {
            let path = entry?.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                found.insert(path.strip_prefix(dir)?.to_owned());
            }
        }
    }
    Ok(found)
}

/// What differs between the expected tree and the committed one.
fn differences(expected: &Path, committed: &Path) -> Result<Vec<String>> {
    let want = files(expected)?;
    let have = files(committed)?;
    let mut found = Vec::new();
    for missing in want.difference(&have) {
        found.push(format!("{} is missing", missing.display()));
    }
    for extra in have.difference(&want) {
        found.push(format!(
            "{} is not in the release (nor dropped)",
            extra.display()
        ));
    }
    for both in want.intersection(&have) {
        if std::fs::read(expected.join(both))? != std::fs::read(committed.join(both))? {
            found.push(format!(
                "{} differs from the release plus the patch",
                both.display()
            ));
        }
    }
    Ok(found)
}

/// `diff -u` of one file between the two trees, with `a/` and `b/` paths (empty when equal).
fn unified_diff(old: &Path, new: &Path, relative: &Path) -> Result<String> {
    let name = relative.display();
    let side = |dir: &Path| {
        let path = dir.join(relative);
        if path.exists() {
            path
        } else {
            PathBuf::from("/dev/null")
        }
    };
    let output = Command::new("diff")
        .arg("-u")
        .arg(format!("--label=a/{name}"))
        .arg(format!("--label=b/{name}"))
        .arg(side(old))
        .arg(side(new))
        .output()
        .context("starting diff")?;
    ensure!(
        output.status.code().is_some_and(|c| c <= 1),
        "diff failed on {name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}
