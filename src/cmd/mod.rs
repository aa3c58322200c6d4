//! One module per subcommand, over the shared library.

pub mod assess;
pub mod book;
pub mod compare;
pub mod explain;
pub mod extract;
pub mod init;
pub mod links;
pub mod owners;
pub mod merge;
pub mod monitor;
pub mod retention;
pub mod generate;
pub mod validate;
pub mod verify;

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::model::Model;

/// Where a model or the reference tables came from: a path, or built into the binary.
pub struct Source<T> {
    /// The value.
    pub value: T,
    /// How the manifest and messages name it (an absolute path, or `built-in:…`).
    pub name: String,
}

fn absolute(p: &Path) -> String {
    p.canonicalize()
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// The model: the file given, else `data/models/default.toml` where it exists, else the
/// built-in default model.
pub fn model_from(given: Option<&Path>) -> Result<Source<Model>> {
    let default = Path::new("data/models/default.toml");
    match given {
        Some(p) => Ok(Source {
            value: Model::load(p)?,
            name: absolute(p),
        }),
        None if default.is_file() => Ok(Source {
            value: Model::load(default)?,
            name: absolute(default),
        }),
        None => Ok(Source {
            value: Model::builtin()?,
            name: crate::model::BUILTIN.into(),
        }),
    }
}

/// The reference folder: the one given, else `data/reference` where it exists, else the
/// built-in tables written into a private temporary folder (kept alive by the guard).
pub fn reference_from(
    given: Option<&Path>,
) -> Result<(Source<PathBuf>, Option<tempfile::TempDir>)> {
    let default = Path::new("data/reference");
    match given {
        Some(p) => Ok((
            Source {
                value: p.to_path_buf(),
                name: absolute(p),
            },
            None,
        )),
        None if default.is_dir() => Ok((
            Source {
                value: default.to_path_buf(),
                name: absolute(default),
            },
            None,
        )),
        None => {
            let tmp = tempfile::tempdir()
                .map_err(|e| crate::error::Error::Env(format!("a temporary folder: {e}")))?;
            crate::reference::write_builtin(tmp.path())?;
            Ok((
                Source {
                    value: tmp.path().to_path_buf(),
                    name: "built-in:reference".into(),
                },
                Some(tmp),
            ))
        }
    }
}
