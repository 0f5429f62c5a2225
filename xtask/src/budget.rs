//! Size budgets the build enforces: `cargo xtask build` (and so `up` and `test`) fails when the
//! browser bundle or the server component outgrows its budget, naming the file, its size and
//! the budget. A size is not a timing, so checking it in the build is safe on any machine.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The browser's wasm (`dist/web/heart_web_bg.wasm`, after wasm-opt), gzip-compressed as a
/// server would send it. The goal is 25 KiB; what bounds it today is in the README
/// ("Page size and first frame"); this budget holds what was reached so it cannot grow back.
pub const BROWSER_WASM_GZIP: u64 = 44 * 1024;

/// The WASI 0.2 HTTP component without the page it embeds (the component's size minus the
/// bytes of every embedded asset).
pub const COMPONENT_WITHOUT_PAGE: u64 = 400 * 1024;

/// A file's size as stored and as gzip (best compression) would send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after gzip -9.
    pub gzip: u64,
}

impl Size {
    /// Measures the file at `path`.
    pub fn of(path: &Path) -> Result<Size> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)?;
        Ok(Size {
            raw: bytes.len() as u64,
            gzip: gz.finish()?.len() as u64,
        })
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>8} ({} gzip)", kib(self.raw), kib(self.gzip))
    }
}

/// `bytes` as KiB with one decimal.
pub fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

/// Fails when `size` is over `budget`, naming `what`.
pub fn check(what: &str, size: u64, budget: u64) -> Result<()> {
    if size > budget {
        bail!(
            "{what} is {} ({size} bytes), over its {} budget ({budget} bytes): see xtask/src/budget.rs",
            kib(size),
            kib(budget)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_over_budget_fails_naming_both() {
        let err = check("the bundle", 2049, 2048).expect_err("over budget");
        let text = err.to_string();
        assert!(
            text.contains("the bundle is 2.0 KiB (2049 bytes)"),
            "{text}"
        );
        assert!(text.contains("2.0 KiB budget (2048 bytes)"), "{text}");
        assert!(check("the bundle", 2048, 2048).is_ok());
    }

    #[test]
    fn gzip_size_is_measured_not_assumed() {
        let dir = std::env::temp_dir().join(format!("heart-budget-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("zeros");
        std::fs::write(&file, vec![0u8; 64 * 1024]).expect("write");
        let size = Size::of(&file).expect("measures");
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(size.raw, 64 * 1024);
        assert!(size.gzip < 1024, "zeros compress: {}", size.gzip);
    }
}
