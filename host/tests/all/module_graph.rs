//! The shape of `host/src`: the import graph between its files has no circle, and imports run
//! down the layers listed in `lib.rs` (at most [`MAX_UPWARD`] run up). Files are parsed with
//! `syn`; `#[cfg(test)]` items are left out; a path through a module's `pub use` is followed to
//! the file that defines the item.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The top-level modules from the bottom layer up: a module may import those before it.
const LAYERS: [&str; 9] = [
    "response",
    "metrics",
    "runtime",
    "config",
    "instance",
    "presence",
    "app",
    "http",
    "container",
];

/// Imports allowed to run up the layers.
const MAX_UPWARD: usize = 5;

/// A module's path below `crate` (`[]` is `lib.rs`).
type ModPath = Vec<String>;

/// One parsed file of the crate.
struct Module {
    file: PathBuf,
    syntax: syn::File,
}

/// Every module file of `src` (but `main.rs`, another crate), by module path.
fn modules(src: &Path) -> BTreeMap<ModPath, Module> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_owned()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("main.rs") {
                continue;
            }
            let relative = path
                .strip_prefix(src)
                .expect("below src")
                .with_extension("");
            let mut module: ModPath = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("a source file reads");
            let syntax = syn::parse_file(&text)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
            found.insert(module, Module { file: path, syntax });
        }
    }
    found
}

/// Whether `attrs` hold `#[cfg(test)]`.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("cfg")
            && attr
                .parse_args::<syn::Meta>()
                .is_ok_and(|meta| meta.path().is_ident("test"))
    })
}

/// Every path a `use` tree names, with `prefix` before it.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) if n.ident == "self" => out.push(prefix.clone()),
        syn::UseTree::Name(n) => out.push([prefix.clone(), vec![n.ident.to_string()]].concat()),
        syn::UseTree::Rename(r) => out.push([prefix.clone(), vec![r.ident.to_string()]].concat()),
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                use_paths(item, prefix, out);
            }
        }
    }
}

/// The paths a module's non-test code names: its `use` items and every other path.
#[derive(Default)]
struct Paths {
    /// `use` paths, with whether the `use` is `pub` (a re-export).
    uses: Vec<(Vec<String>, bool)>,
    /// Paths in code.
    other: Vec<Vec<String>>,
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            _ => &[],
        };
        if is_test_only(attrs) {
            return;
        }
        if let syn::Item::Use(u) = item {
            let mut found = Vec::new();
            use_paths(&u.tree, &mut Vec::new(), &mut found);
            let public = !matches!(u.vis, syn::Visibility::Inherited);
            self.uses.extend(found.into_iter().map(|p| (p, public)));
            return;
        }
        syn::visit::visit_item(self, item);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.other
            .push(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit::visit_path(self, path);
    }
}

/// `path` as named in `module`, made absolute (below `crate`), if it is the crate's own:
/// through `crate`, `self`, `super`, or a child module's name.
fn absolute(
    modules: &BTreeMap<ModPath, Module>,
    module: &ModPath,
    path: &[String],
) -> Option<Vec<String>> {
    let (first, rest) = path.split_first()?;
    match first.as_str() {
        "crate" => Some(rest.to_vec()),
        "self" => Some([module.clone(), rest.to_vec()].concat()),
        "super" => {
            let parent = module[..module.len().checked_sub(1)?].to_vec();
            Some([parent, rest.to_vec()].concat())
        }
        child if modules.contains_key(&[module.clone(), vec![child.to_owned()]].concat()) => {
            Some([module.clone(), path.to_vec()].concat())
        }
        _ => None,
    }
}

/// The crate's graph: the module files and their re-exports.
struct Crate {
    modules: BTreeMap<ModPath, Module>,
    /// `(module, name)` → the absolute path a `pub use` in `module` names it by.
    reexports: BTreeMap<(ModPath, String), Vec<String>>,
    paths: BTreeMap<ModPath, Paths>,
}

impl Crate {
    fn read(src: &Path) -> Self {
        let modules = modules(src);
        let mut reexports = BTreeMap::new();
        let mut paths = BTreeMap::new();
        for (module, parsed) in &modules {
            let mut found = Paths::default();
            found.visit_file(&parsed.syntax);
            for (path, public) in &found.uses {
                if let (true, Some(target)) = (*public, absolute(&modules, module, path)) {
                    let name = target.last().cloned().unwrap_or_default();
                    reexports.insert((module.clone(), name), target);
                }
            }
            paths.insert(module.clone(), found);
        }
        Self {
            modules,
            reexports,
            paths,
        }
    }

    /// The file defining what the absolute `path` names: the deepest module file along it,
    /// through re-exports.
    fn resolve(&self, path: &[String], depth: usize) -> ModPath {
        let mut module: ModPath = Vec::new();
        for segment in path {
            let deeper = [module.clone(), vec![segment.clone()]].concat();
            if self.modules.contains_key(&deeper) {
                module = deeper;
                continue;
            }
            if let Some(target) = self.reexports.get(&(module.clone(), segment.clone()))
                && depth < 8
            {
                return self.resolve(target, depth + 1);
            }
            break;
        }
        module
    }

    /// Each file's imports of other files (not of its own ancestors, which only declare it).
    fn edges(&self) -> BTreeSet<(ModPath, ModPath)> {
        let mut edges = BTreeSet::new();
        for (module, found) in &self.paths {
            let named = found.uses.iter().map(|(p, _)| p).chain(&found.other);
            for path in named {
                let Some(target) = absolute(&self.modules, module, path) else {
                    continue;
                };
                let target = self.resolve(&target, 0);
                if target != *module && !module.starts_with(&target) {
                    edges.insert((module.clone(), target));
                }
            }
        }
        edges
    }
}

/// The circles (strongly connected groups of more than one file) of `edges`.
fn circles(edges: &BTreeSet<(ModPath, ModPath)>) -> Vec<Vec<ModPath>> {
    let nodes: BTreeSet<&ModPath> = edges.iter().flat_map(|(a, b)| [a, b]).collect();
    let reaches = |from: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(node) = todo.pop() {
            for (a, b) in edges {
                if *a == node && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reach: BTreeMap<&ModPath, BTreeSet<ModPath>> =
        nodes.iter().map(|n| (*n, reaches(n))).collect();
    let mut groups: Vec<Vec<ModPath>> = Vec::new();
    for node in &nodes {
        let group: Vec<ModPath> = nodes
            .iter()
            .filter(|other| reach[node].contains(**other) && reach[**other].contains(*node))
            .map(|n| (*n).clone())
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

fn show(module: &ModPath) -> String {
    if module.is_empty() {
        "lib".to_owned()
    } else {
        module.join("/")
    }
}

fn layer(module: &ModPath) -> Option<usize> {
    LAYERS
        .iter()
        .position(|l| module.first().is_some_and(|m| m == l))
}

fn host_crate() -> Crate {
    Crate::read(&heart_testing::root().join("host/src"))
}

#[test]
fn every_top_level_module_has_a_layer() {
    let host = host_crate();
    let lib = &host.modules[&Vec::new()];
    let declared: Vec<String> = lib
        .syntax
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) => Some(m.ident.to_string()),
            _ => None,
        })
        .collect();
    for module in &declared {
        assert!(
            LAYERS.contains(&module.as_str()),
            "{}: module `{module}` is in no layer of this test's LAYERS",
            lib.file.display()
        );
    }
    assert_eq!(
        declared.len(),
        LAYERS.len(),
        "LAYERS names a module lib.rs lacks"
    );
}

#[test]
fn the_import_graph_of_host_src_has_no_circle() {
    let edges = host_crate().edges();
    assert!(
        edges.len() > 50,
        "the graph was read: {} imports",
        edges.len()
    );
    let found: Vec<String> = circles(&edges)
        .iter()
        .map(|group| group.iter().map(show).collect::<Vec<_>>().join(" ↔ "))
        .collect();
    assert!(found.is_empty(), "circles among host/src files: {found:#?}");
}

#[test]
fn imports_run_down_the_layers() {
    let upward: Vec<String> = host_crate()
        .edges()
        .iter()
        .filter(|(from, to)| matches!((layer(from), layer(to)), (Some(a), Some(b)) if b > a))
        .map(|(from, to)| format!("{} → {}", show(from), show(to)))
        .collect();
    assert!(
        upward.len() <= MAX_UPWARD,
        "{} imports run up the layers (at most {MAX_UPWARD}): {upward:#?}",
        upward.len()
    );
}

#[test]
fn the_graph_reader_sees_a_circle_and_an_upward_import() {
    // The checks above on a made-up crate that has both, so they can fail.
    let dir = tempfile::tempdir().expect("a temp dir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("response")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "pub mod response;\npub mod metrics;\n").expect("write");
    std::fs::write(
        src.join("response/mod.rs"),
        "mod a;\nmod b;\npub use a::A;\nuse crate::metrics::M;\n",
    )
    .expect("write");
    std::fs::write(
        src.join("response/a.rs"),
        "pub struct A(crate::response::b::B);\n",
    )
    .expect("write");
    std::fs::write(
        src.join("response/b.rs"),
        "use crate::response::A;\npub struct B;\n#[cfg(test)]\nmod tests { use crate::metrics::M; }\n",
    )
    .expect("write");
    std::fs::write(src.join("metrics.rs"), "pub struct M;\n").expect("write");
    let made_up = Crate::read(src);
    let edges = made_up.edges();
    let circle = circles(&edges);
    assert_eq!(circle.len(), 1, "one circle: {circle:?}");
    assert_eq!(
        circle[0].iter().map(show).collect::<Vec<_>>(),
        ["response/a", "response/b"]
    );
    let upward: Vec<_> = edges
        .iter()
        .filter(|(from, to)| matches!((layer(from), layer(to)), (Some(a), Some(b)) if b > a))
        .collect();
    assert_eq!(upward.len(), 1, "only mod.rs's import runs up: {upward:?}");
}
