//! Where a command may write. Every output of every command is checked here before anything
//! is written, and again at the instant a folder is swapped into place:
//!
//! - it is never one of the command's inputs, inside one, or a folder holding one (writing it
//!   would destroy what the command reads);
//! - if it exists, it is an output riskgrade wrote for this kind of output: a folder with the
//!   marker of its kind holding only the files its manifest lists, or a file riskgrade
//!   recognises as its own (a links table, a rating sheet page).
//!
//! Anything else is refused with exit 2 and nothing is written.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::io::{self, Staging};
use crate::run_folder::{self, FileHash, FolderKind, Manifest};

/// A single-file output and how riskgrade recognises one it wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A links table (`riskgrade links`): a Parquet file carrying riskgrade's key.
    Links,
    /// A rating sheet page (`explain --html`): a page that begins with riskgrade's head and
    /// the digest of the rest, unchanged since.
    SheetPage,
    /// A beneficial-owners table (`riskgrade owners`): a Parquet file carrying riskgrade's key.
    Owners,
}

/// How a rating sheet page begins.
pub const SHEET_PAGE_HEAD: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"generator\" content=\"riskgrade explain\">";

/// The meta line of a rating sheet page that carries the SHA-256 of the rest of the page.
const DIGEST_OPEN: &str = "<meta name=\"riskgrade-digest\" content=\"";

/// A rating sheet page of `rest` (everything after the head's first lines): riskgrade's head,
/// then the digest of `rest`, then `rest`, so the page is recognised as riskgrade's and
/// unchanged before `explain --html` replaces it.
pub fn signed_page(rest: &str) -> String {
    format!(
        "{SHEET_PAGE_HEAD}{DIGEST_OPEN}{}\">{rest}",
        io::sha256_bytes(rest.as_bytes())
    )
}

/// Whether `bytes` are a page [`signed_page`] made, unchanged.
fn page_is_signed(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let Some(after) = text
        .strip_prefix(SHEET_PAGE_HEAD)
        .and_then(|t| t.strip_prefix(DIGEST_OPEN))
    else {
        return false;
    };
    match after.split_once("\">") {
        Some((digest, rest)) => io::sha256_bytes(rest.as_bytes()) == digest,
        None => false,
    }
}

impl FileKind {
    fn what(self) -> &'static str {
        match self {
            FileKind::Links => "a links table written by riskgrade links",
            FileKind::Owners => "a beneficial-owners table written by riskgrade owners",
            FileKind::SheetPage => {
                "a rating sheet page written by riskgrade explain --html and unchanged since"
            }
        }
    }

    fn is_ours(self, path: &Path) -> bool {
        if !fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            return false;
        }
        match self {
            FileKind::Links => crate::inputs::parquet_metadata(path)
                .is_ok_and(|kv| kv.iter().any(|(k, v)| k == LINKS_KEY && v == LINKS_VALUE)),
            FileKind::SheetPage => fs::read(path).is_ok_and(|b| page_is_signed(&b)),
            FileKind::Owners => crate::owners::OwnersSource::read(path).is_ok_and(|s| s.is_some()),
        }
    }
}

/// The Parquet key-value pair that marks a links table riskgrade wrote.
pub const LINKS_KEY: &str = "riskgrade";
/// Its value.
pub const LINKS_VALUE: &str = "links";

/// A path as far as it exists made canonical (links followed), the rest appended: two names of
/// one place compare equal even when the place does not exist yet.
fn canonical(p: &Path) -> PathBuf {
    let abs = io::resolve_out(p).unwrap_or_else(|_| p.to_path_buf());
    let mut head = abs.clone();
    let mut tail = Vec::new();
    loop {
        if let Ok(c) = head.canonicalize() {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                head = parent.to_path_buf();
            }
            _ => return abs,
        }
    }
}

/// The same file under two names (a hard link, a bind mount).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// How `out` relates to `input`: it is it, lies inside it, or holds it (`None`: apart).
fn relation(out: &Path, input: &Path) -> Option<&'static str> {
    if out == input || same_file(out, input) {
        Some("is")
    } else if out.starts_with(input) {
        Some("lies inside")
    } else if input.starts_with(out) {
        Some("holds")
    } else {
        None
    }
}

/// The nearest folder above `out` that riskgrade wrote as an output (its marker says so).
fn inside_an_output(out: &Path) -> Option<(PathBuf, FolderKind)> {
    out.ancestors()
        .skip(1)
        .find_map(|a| run_folder::marker_kind(a).map(|k| (a.to_path_buf(), k)))
}

/// The inputs of one command, against which its outputs are checked.
#[derive(Debug, Default)]
pub struct Guard {
    inputs: Vec<(String, PathBuf)>,
}

impl Guard {
    /// A guard with no inputs yet.
    pub fn new() -> Guard {
        Guard::default()
    }

    /// Records an input of the command (a file or a folder), named by its flag for messages.
    pub fn input(&mut self, flag: &str, path: &Path) -> &mut Guard {
        self.inputs.push((flag.to_string(), canonical(path)));
        self
    }

    /// Refuses `out` when it is an input, lies inside one, or holds one, or lies inside a
    /// folder riskgrade wrote as an output (writing there would change that output).
    fn apart(&self, flag: &str, given: &Path, out: &Path) -> Result<()> {
        for (in_flag, input) in &self.inputs {
            if let Some(why) = relation(out, input) {
                return Err(Error::Usage(format!(
                    "{flag} {} {why} {in_flag} {}, which this command reads; writing there \
                     would destroy it: choose a separate output",
                    given.display(),
                    input.display()
                )));
            }
        }
        if let Some((folder, kind)) = inside_an_output(out) {
            return Err(Error::Usage(format!(
                "{flag} {} lies inside {}, which holds {}; writing there would change that \
                 output: choose a path outside it",
                given.display(),
                folder.display(),
                kind.what()
            )));
        }
        Ok(())
    }

    /// Checks an output folder of `kind`: apart from the inputs and from other outputs, and
    /// absent, empty, or a folder riskgrade wrote for this kind, unchanged since.
    pub fn folder(&self, flag: &str, given: &Path, kind: FolderKind) -> Result<OutFolder> {
        let out = io::resolve_out(given)?;
        self.apart(flag, given, &canonical(&out))?;
        may_replace(flag, &out, kind)?;
        Ok(OutFolder {
            flag: flag.to_string(),
            path: out,
            kind,
            inputs: self.inputs.iter().map(|(_, p)| p.clone()).collect(),
        })
    }

    /// Checks a new folder a command fills once (`init`): apart from the inputs and other
    /// outputs, and absent or empty. Returns it, created, its owner's only.
    pub fn new_folder(&self, flag: &str, given: &Path) -> Result<PathBuf> {
        let out = io::resolve_out(given)?;
        self.apart(flag, given, &canonical(&out))?;
        let empty = fs::read_dir(&out).map(|mut d| d.next().is_none());
        match (fs::symlink_metadata(&out), empty) {
            (Err(_), _) => {
                if let Some(parent) = out.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| Error::Env(format!("{flag} {}: {e}", parent.display())))?;
                }
                io::create_private_dir(&out)?;
            }
            (Ok(m), Ok(true)) if m.is_dir() => {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&out, fs::Permissions::from_mode(0o700))
                    .map_err(|e| Error::Env(format!("{flag} {}: {e}", out.display())))?;
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{flag} {} exists and is not empty; give a new folder",
                    given.display()
                )))
            }
        }
        Ok(out)
    }

    /// Checks an output file of `kind`: apart from the inputs and other outputs, not a folder,
    /// and absent or a file riskgrade wrote for this kind. Its folder is created if needed.
    pub fn file(&self, flag: &str, given: &Path, kind: FileKind) -> Result<PathBuf> {
        let out = io::resolve_out(given)?;
        self.apart(flag, given, &canonical(&out))?;
        match fs::symlink_metadata(&out) {
            Err(_) => {}
            Ok(m) if m.is_dir() => {
                return Err(Error::Usage(format!(
                    "{flag} {} is a folder; give a file name",
                    given.display()
                )))
            }
            Ok(_) if kind.is_ours(&out) => {}
            Ok(_) => {
                return Err(Error::Usage(format!(
                    "{flag} {} exists and is not {}; riskgrade replaces only a file it wrote: give a new file name",
                    given.display(),
                    kind.what()
                )))
            }
        }
        if let Some(parent) = out.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::Env(format!("{flag} {}: {e}", parent.display())))?;
        }
        Ok(out)
    }
}

/// Checks that the existing `out` may be replaced by a folder of `kind`.
fn may_replace(flag: &str, out: &Path, kind: FolderKind) -> Result<()> {
    match fs::symlink_metadata(out) {
        Err(_) => return Ok(()),
        Ok(m) if !m.is_dir() => {
            return Err(Error::Usage(format!(
                "{flag} {} exists and is not a folder; give a new or empty folder",
                out.display()
            )))
        }
        Ok(_) => {}
    }
    let empty = fs::read_dir(out)
        .map(|mut d| d.next().is_none())
        .unwrap_or(false);
    if empty {
        return Ok(());
    }
    if let Some(why) = run_folder::not_replaceable(out, kind) {
        return Err(Error::Usage(format!(
            "{flag} {} exists and is not an earlier riskgrade output folder of this kind ({why}); \
             riskgrade replaces only a folder it wrote as {}: give a new or empty folder",
            out.display(),
            kind.what()
        )));
    }
    Ok(())
}

/// An output folder that passed the guard.
#[derive(Debug, Clone)]
pub struct OutFolder {
    flag: String,
    path: PathBuf,
    kind: FolderKind,
    /// The command's inputs, which a leftover of an interrupted run never is.
    inputs: Vec<PathBuf>,
}

impl OutFolder {
    /// Where the folder is (absolute).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A staging folder beside it, to write the new outputs into.
    pub fn stage(&self) -> Result<Staged> {
        let may_touch = |p: &Path, what: io::Leftover| {
            let p = canonical(p);
            let apart = self.inputs.iter().all(|i| relation(&p, i).is_none());
            // A staging folder and a previous output moved aside both carry the marker of
            // this kind (a staging folder from its creation).
            let _ = what;
            apart && run_folder::marker_kind(&p) == Some(self.kind)
        };
        let staging = Staging::new(&self.path, &may_touch)?;
        run_folder::write_marker(&staging.path(""), self.kind)?;
        Ok(Staged {
            staging,
            out: self.clone(),
        })
    }
}

/// A staged output folder: written into, then swapped into place with its manifest.
pub struct Staged {
    staging: Staging,
    out: OutFolder,
}

impl Staged {
    /// Path of `file` inside the staging folder.
    pub fn path(&self, file: &str) -> PathBuf {
        self.staging.path(file)
    }

    /// The staging folder.
    pub fn dir(&self) -> PathBuf {
        self.staging.path("")
    }

    /// Lists every staged file in `manifest` with its hash, writes the manifest and the marker
    /// of the folder's kind, and swaps the folder into place (the existing one checked again).
    pub fn commit(self, manifest: &mut Manifest) -> Result<()> {
        self.commit_with(manifest, &[])
    }

    /// [`Staged::commit`], listing the files of `known` with the hashes given there.
    pub fn commit_with(self, manifest: &mut Manifest, known: &[FileHash]) -> Result<()> {
        debug_assert_eq!(manifest.record.kind(), self.out.kind);
        manifest.finished = crate::dates::now_rfc3339();
        let dir = self.dir();
        manifest.list_outputs(&dir, known)?;
        manifest.write(&dir)?;
        let (flag, kind) = (self.out.flag.clone(), self.out.kind);
        self.staging
            .commit_replace(|dest| may_replace(&flag, dest, kind))
    }
}
