//! The layering ARCHITECTURE.md promises, checked on the workspace itself: the gateway
//! shares only `atrium-contract` with the services and links no database crate, so a
//! change to the service runtime can neither slow the gateway's build nor reach its
//! request path.

use std::collections::BTreeSet;

/// Names of every package `root` links in a normal build for this machine (not dev, not
/// build-only), from `cargo tree`, resolved offline: the build fetched everything.
fn linked_packages(root: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .args(["tree", "--offline", "--edges", "normal", "--prefix", "none", "--format", "{p}", "--package", root])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml"))
        .output()
        .expect("run cargo tree");
    assert!(output.status.success(), "cargo tree failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout)
        .expect("cargo tree output")
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_gateway_links_no_database_crate_and_no_service_runtime() {
    let linked = linked_packages("atrium-gateway");
    assert!(linked.contains("atrium-contract"), "the gateway shares the contract crate: {linked:?}");
    let forbidden: Vec<&String> = linked
        .iter()
        .filter(|name| {
            name.starts_with("sea-orm")
                || name.starts_with("sqlx")
                || name.starts_with("sea-query")
                || *name == "atrium-kit"
        })
        .collect();
    assert!(forbidden.is_empty(), "the gateway links {forbidden:?}");
}

#[test]
fn the_service_runtime_builds_on_the_contract() {
    let linked = linked_packages("atrium-kit");
    assert!(linked.contains("atrium-contract") && linked.contains("sea-orm"), "{linked:?}");
}

/// Source trees whose files must not import each other in a circle.
const CRATES: [&str; 8] = [
    "gateway/src",
    "services/contract/src",
    "services/kit/src",
    "services/catalog/src",
    "services/delivery/src",
    "services/finance/src",
    "services/support/src",
    "services/analytics/src",
];

#[test]
fn no_module_imports_itself_through_others() {
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut circles = Vec::new();
    for source in CRATES {
        let graph = module_graph::of_crate(&workspace.join(source));
        circles.extend(
            module_graph::circles(&graph)
                .into_iter()
                .filter(|circle| !is_api_object_graph(circle))
                .map(|circle| format!("{source}: {}", circle.join(" → "))),
        );
    }
    assert!(
        circles.is_empty(),
        "import cycles (move the shared part into a module both can use):\n{}",
        circles.join("\n")
    );
}

/// A service's GraphQL object types navigate to each other as the API does (an engagement
/// lists its time entries, a time entry names its engagement), so the files that define
/// them may refer to each other; the wiring around them (`schema.rs`, `root.rs`, `mod.rs`)
/// and every other module may not.
fn is_api_object_graph(circle: &[String]) -> bool {
    circle.iter().all(|file| {
        file.strip_prefix("graphql/")
            .is_some_and(|name| !name.contains('/') && !["schema.rs", "root.rs", "mod.rs"].contains(&name))
    })
}

#[test]
fn only_object_type_files_of_the_api_may_refer_to_each_other() {
    let circle = |files: &[&str]| files.iter().map(|file| (*file).to_owned()).collect::<Vec<_>>();
    assert!(is_api_object_graph(&circle(&["graphql/operations.rs", "graphql/types.rs"])));
    assert!(!is_api_object_graph(&circle(&["graphql/schema.rs", "graphql/types.rs"])));
    assert!(!is_api_object_graph(&circle(&["graphql/types.rs", "repository/mod.rs"])));
    assert!(!is_api_object_graph(&circle(&["http/mod.rs", "state.rs"])));
}

/// A file-level import graph read from the source text: an edge `a → b` when `a` names an
/// item of `b` through a `crate::`, `super::` or `self::` path (groups included). Test
/// modules are left out (they import their parent by design), and so are a parent's plain
/// `mod`/`pub use child::…` lines: a module owning its children is not a circle, a child
/// reaching back for its parent's items is.
mod module_graph {
    use std::{
        collections::{BTreeMap, BTreeSet},
        path::Path,
    };

    pub type Graph = BTreeMap<String, BTreeSet<String>>;

    pub fn of_crate(root: &Path) -> Graph {
        let mut files = BTreeMap::new();
        collect(root, root, &mut files);
        let by_module: BTreeMap<Vec<String>, String> =
            files.keys().map(|file| (module_path(file), file.clone())).collect();
        files
            .iter()
            .map(|(file, text)| {
                let targets = imported_paths(file, text)
                    .into_iter()
                    .filter_map(|path| resolve(&by_module, &path))
                    .filter(|target| target != file)
                    .collect();
                (file.clone(), targets)
            })
            .collect()
    }

    fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read source dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "tests") {
                    collect(root, &path, files);
                }
            } else if path.extension().is_some_and(|extension| extension == "rs")
                && path.file_name().is_some_and(|name| name != "tests.rs")
            {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
                files.insert(relative, std::fs::read_to_string(&path).expect("read source"));
            }
        }
    }

    /// `engine/projection.rs` → `[engine, projection]`; `http/mod.rs` → `[http]`.
    fn module_path(file: &str) -> Vec<String> {
        let mut parts: Vec<String> = file.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
            parts.pop();
        }
        parts
    }

    fn resolve(by_module: &BTreeMap<Vec<String>, String>, path: &[String]) -> Option<String> {
        (0..=path.len()).rev().find_map(|length| by_module.get(&path[..length]).cloned())
    }

    /// Absolute module paths named by `crate::`, `super::` and `self::` paths in `text`,
    /// outside comments and `#[cfg(test)] mod tests { … }`.
    fn imported_paths(file: &str, text: &str) -> Vec<Vec<String>> {
        let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or(text);
        let code: String =
            code.lines().map(|line| line.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
        let here = module_path(file);
        let parent: Vec<String> = here[..here.len().saturating_sub(1)].to_vec();
        let mut paths = Vec::new();
        for (anchor, base) in [("crate::", Vec::new()), ("super::", parent), ("self::", here.clone())] {
            let mut rest = code.as_str();
            while let Some(position) = rest.find(anchor) {
                let preceded_by_identifier =
                    rest[..position].chars().last().is_some_and(|c| c.is_alphanumeric() || c == '_');
                rest = &rest[position + anchor.len()..];
                if preceded_by_identifier {
                    continue;
                }
                for tail in expand(rest) {
                    let mut path = base.clone();
                    path.extend(tail);
                    paths.push(path);
                }
            }
        }
        paths
    }

    /// The paths a use-tree starting at `text` names: `a::b::X` → `[[a, b, X]]`,
    /// `{a::X, b}` → `[[a, X], [b]]` (first level of a group is enough to find the file).
    fn expand(text: &str) -> Vec<Vec<String>> {
        let mut prefix = Vec::new();
        let mut rest = text;
        loop {
            if let Some(group) = rest.strip_prefix('{') {
                let mut depth = 1;
                let end = group
                    .char_indices()
                    .find(|&(_, c)| {
                        depth += match c {
                            '{' => 1,
                            '}' => -1,
                            _ => 0,
                        };
                        depth == 0
                    })
                    .map_or(group.len(), |(index, _)| index);
                let body = &group[..end];
                let mut items = Vec::new();
                let (mut depth, mut start) = (0, 0);
                for (index, c) in body.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            items.push(&body[start..index]);
                            start = index + 1;
                        }
                        _ => {}
                    }
                }
                items.push(&body[start..]);
                return items
                    .into_iter()
                    .map(|item| {
                        let mut path = prefix.clone();
                        path.extend(identifiers(item.trim()));
                        path
                    })
                    .collect();
            }
            let length = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            if length == 0 {
                return vec![prefix];
            }
            prefix.push(rest[..length].to_owned());
            rest = &rest[length..];
            match rest.strip_prefix("::") {
                Some(after) => rest = after,
                None => return vec![prefix],
            }
        }
    }

    fn identifiers(item: &str) -> Vec<String> {
        item.split("::")
            .map(|part| part.trim())
            .take_while(|part| !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .map(str::to_owned)
            .collect()
    }

    /// Strongly connected groups of more than one file, each listed in order.
    pub fn circles(graph: &Graph) -> Vec<Vec<String>> {
        struct Search<'g> {
            graph: &'g Graph,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            on_stack: BTreeSet<&'g str>,
            found: Vec<Vec<String>>,
        }
        impl<'g> Search<'g> {
            fn visit(&mut self, file: &'g str) {
                let number = self.index.len();
                self.index.insert(file, number);
                self.low.insert(file, number);
                self.stack.push(file);
                self.on_stack.insert(file);
                for target in self.graph.get(file).into_iter().flatten() {
                    let target = target.as_str();
                    if !self.index.contains_key(target) {
                        self.visit(target);
                        let low = self.low[file].min(self.low[target]);
                        self.low.insert(file, low);
                    } else if self.on_stack.contains(target) {
                        let low = self.low[file].min(self.index[target]);
                        self.low.insert(file, low);
                    }
                }
                if self.low[file] == self.index[file] {
                    let mut circle = Vec::new();
                    while let Some(member) = self.stack.pop() {
                        self.on_stack.remove(member);
                        circle.push(member.to_owned());
                        if member == file {
                            break;
                        }
                    }
                    if circle.len() > 1 {
                        circle.sort();
                        self.found.push(circle);
                    }
                }
            }
        }
        let mut search = Search {
            graph,
            index: BTreeMap::new(),
            low: BTreeMap::new(),
            stack: Vec::new(),
            on_stack: BTreeSet::new(),
            found: Vec::new(),
        };
        for file in graph.keys() {
            if !search.index.contains_key(file.as_str()) {
                search.visit(file);
            }
        }
        search.found
    }

    #[test]
    fn a_child_reaching_back_into_its_parent_is_a_circle() {
        let dir = std::env::temp_dir().join(format!("atrium-module-graph-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("http")).unwrap();
        std::fs::write(dir.join("lib.rs"), "mod http;\nmod state;\n").unwrap();
        std::fs::write(dir.join("http/mod.rs"), "mod answer;\nuse crate::state::{State, other::Thing};\n").unwrap();
        std::fs::write(dir.join("http/answer.rs"), "use super::super::state::State; // crate::http\n").unwrap();
        std::fs::write(
            dir.join("state.rs"),
            "pub struct State(crate::http::Shared);\n#[cfg(test)]\nmod tests {\n use crate::http::answer;\n}\n",
        )
        .unwrap();
        let graph = of_crate(&dir);
        assert_eq!(circles(&graph), vec![vec!["http/mod.rs".to_owned(), "state.rs".to_owned()]]);
        std::fs::write(dir.join("state.rs"), "pub struct State;\n").unwrap();
        assert!(circles(&of_crate(&dir)).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// The source files of the gateway and the services, test code excluded: files under a
/// `tests` folder, `tests.rs` files and what follows a file's `#[cfg(test)]`.
fn production_sources() -> Vec<(std::path::PathBuf, String)> {
    let root = atrium_system_tests::repository_root();
    let mut folders = vec![root.join("gateway/src")];
    for entry in std::fs::read_dir(root.join("services")).expect("services/") {
        let path = entry.expect("an entry").path();
        if path.join("src").is_dir() {
            folders.push(path.join("src"));
        }
    }
    let mut sources = Vec::new();
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("a source folder") {
            let path = entry.expect("an entry").path();
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default().to_owned();
            if path.is_dir() {
                if name != "tests" {
                    folders.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                let text = std::fs::read_to_string(&path).expect("a source file");
                let production = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
                sources.push((path, production));
            }
        }
    }
    sources
}

#[test]
fn error_code_texts_are_spelled_only_in_the_closed_set() {
    let home = std::path::Path::new("services/contract/src/errors.rs");
    let mut spelled = Vec::new();
    for (path, text) in production_sources() {
        if path.ends_with(home) {
            continue;
        }
        for code in atrium_kit::errors::ErrorCode::ALL {
            if text.contains(&format!("\"{}\"", code.as_str())) {
                spelled.push(format!("{} spells \"{}\"", path.display(), code.as_str()));
            }
        }
    }
    assert!(spelled.is_empty(), "use atrium_contract::ErrorCode instead of its text:\n{}", spelled.join("\n"));
}
