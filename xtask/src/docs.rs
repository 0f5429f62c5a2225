//! The README is a front door: at most [`README_MAX_LINES`] lines, the two commands in its
//! table, and every relative link of it and of `docs/` leading to a file that exists. Checked
//! by xtask's own tests (`cargo test -p xtask`, part of `cargo xtask test`).

use std::path::Path;

/// The README's length limit.
pub const README_MAX_LINES: usize = 150;

/// The README's table rows for the two commands.
const COMMAND_ROWS: [&str; 2] = ["| `cargo xtask up` |", "| `cargo xtask test` |"];

/// What is wrong with the README at `root` and the Markdown files it and `docs/` link to.
pub fn problems(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let readme_path = root.join("README.md");
    let Ok(readme) = std::fs::read_to_string(&readme_path) else {
        return vec![format!("{} is missing", readme_path.display())];
    };
    let lines = readme.lines().count();
    if lines > README_MAX_LINES {
        found.push(format!(
            "README.md has {lines} lines; at most {README_MAX_LINES} (move detail into docs/)"
        ));
    }
    for row in COMMAND_ROWS {
        if !readme.lines().any(|line| line.contains(row)) {
            found.push(format!("README.md's command table lacks the row `{row}`"));
        }
    }
    let mut pages = vec![readme_path];
    if let Ok(entries) = std::fs::read_dir(root.join("docs")) {
        pages.extend(
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "md")),
        );
    }
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap_or_default();
        let dir = page.parent().unwrap_or(root);
        for target in relative_links(&text) {
            if !dir.join(target).exists() {
                found.push(format!(
                    "{}: the link `{target}` leads nowhere",
                    page.strip_prefix(root).unwrap_or(&page).display()
                ));
            }
        }
    }
    found
}

/// The relative link targets of Markdown `text` (`](path)` or `](path#anchor)`), without
/// their anchors; web addresses and bare anchors are left out.
fn relative_links(text: &str) -> Vec<&str> {
    text.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &text[at + 2..];
            let target = &rest[..rest.find(')')?];
            let target = target.split('#').next().unwrap_or_default();
            let external = target.contains("://") || target.starts_with("mailto:");
            (!target.is_empty() && !external && !target.contains(' ')).then_some(target)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_is_a_front_door_and_its_links_lead_somewhere() {
        let found = problems(&crate::cmd::root());
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn a_long_readme_a_missing_command_and_a_dead_link_are_found() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let long = "line\n".repeat(README_MAX_LINES);
        let readme = format!("| `cargo xtask up` |\n[gone](docs/gone.md#part)\n{long}");
        std::fs::write(dir.path().join("README.md"), readme).expect("write");
        let found = problems(dir.path());
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(found[0].contains("lines"), "{found:#?}");
        assert!(found[1].contains("cargo xtask test"), "{found:#?}");
        assert!(found[2].contains("docs/gone.md"), "{found:#?}");
    }

    #[test]
    fn links_lose_their_anchors_and_skip_the_web() {
        let text = "[a](docs/a.md#x) [b](https://x.io/b) [c](#here) [d](images/d.png)";
        assert_eq!(relative_links(text), ["docs/a.md", "images/d.png"]);
    }
}
