//! The world files shipped inside the binary (`worlds/{music,tutoring,web,bnpl}.yaml`), so
//! that `--scenario music` or `--world music` runs the shipped file from any working
//! directory (issue 11: these four worlds were Rust modules before).

use std::borrow::Cow;
use std::path::Path;

/// One shipped world file.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The world's name (`world:` in the file), which `--scenario` and `--world` take.
    pub name: &'static str,
    /// Where the file lives in the repository, naming it in errors and listings.
    pub file: &'static str,
    /// The file's text, as shipped.
    pub text: &'static str,
}

/// Every shipped world file, in the order `kafka-gen scenarios` lists them.
pub static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "music",
        file: "worlds/music.yaml",
        text: include_str!("../../worlds/music.yaml"),
    },
    Builtin {
        name: "tutoring",
        file: "worlds/tutoring.yaml",
        text: include_str!("../../worlds/tutoring.yaml"),
    },
    Builtin {
        name: "web",
        file: "worlds/web.yaml",
        text: include_str!("../../worlds/web.yaml"),
    },
    Builtin {
        name: "bnpl",
        file: "worlds/bnpl.yaml",
        text: include_str!("../../worlds/bnpl.yaml"),
    },
];

/// The shipped world file of this name.
pub fn get(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Whether `world` (a `--world`/`--scenario` value) names a world file: a path, or the name
/// of a shipped one.
pub fn names_a_world_file(world: &str) -> bool {
    super::is_path(world) || get(world).is_some()
}

/// The text of the world file `world` names, and the name to give it in messages: a path is
/// read from disk, a shipped world's name gives its embedded text. `None` if it is neither or
/// the file cannot be read (loading it later reports why).
pub fn source(world: &str) -> Option<(String, Cow<'static, str>)> {
    if super::is_path(world) {
        let text = std::fs::read_to_string(Path::new(world)).ok()?;
        return Some((world.to_string(), Cow::Owned(text)));
    }
    get(world).map(|b| (b.file.to_string(), Cow::Borrowed(b.text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shipped_file_is_named_as_its_world_and_compiles() {
        for b in BUILTINS {
            assert_eq!(b.file, format!("worlds/{}.yaml", b.name));
            let model = super::super::compile_text(b.file, b.text, &Default::default())
                .unwrap_or_else(|e| panic!("{}: {e}", b.file));
            assert_eq!(model.name, b.name);
        }
        assert!(get("retail").is_none());
        assert!(names_a_world_file("music") && names_a_world_file("x/y.yaml"));
        assert!(!names_a_world_file("retail"));
    }
}
