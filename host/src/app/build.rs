//! `heart-host build`: each component's `[component.<id>.build] command`, as `spin build` runs
//! them.

use std::path::Path;

use crate::app::AppError;
use crate::app::load::manifest_dir;
use crate::manifest::Manifest;

/// Runs each component's `[component.<id>.build] command` (through `sh -c`, in its workdir).
pub fn build(manifest_path: &Path) -> Result<(), AppError> {
    let manifest = Manifest::load(manifest_path)?;
    let base = manifest_dir(manifest_path);
    for (id, decl) in &manifest.component {
        let Some(build) = &decl.build else { continue };
        let dir = build
            .workdir
            .as_ref()
            .map_or_else(|| base.clone(), |w| base.join(w));
        tracing::info!(component = %id, command = %build.command, dir = %dir.display(), "building");
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&dir)
            .status()
            .map_err(|e| AppError::Build {
                component: id.clone(),
                command: build.command.clone(),
                outcome: format!("could not start: {e}"),
            })?;
        if !status.success() {
            return Err(AppError::Build {
                component: id.clone(),
                command: build.command.clone(),
                outcome: format!("failed with {status}"),
            });
        }
    }
    Ok(())
}
