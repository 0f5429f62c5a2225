//! Golden files: an output compared with its checked-in snapshot, so any change to it is a
//! reviewed diff. With `UPDATE_GOLDEN=1` the snapshot is rewritten instead (review the diff
//! before committing).

use std::path::Path;

/// Compares `actual` with the golden file `dir/name`, or rewrites it under `UPDATE_GOLDEN=1`;
/// `what` says whose output it is in the failure message.
pub fn assert_golden(dir: &Path, name: &str, what: &str, actual: &str) {
    let path = dir.join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        expected == actual,
        "{what}: {name} differs from its golden file; rerun with UPDATE_GOLDEN=1 and review the \
         diff\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}
