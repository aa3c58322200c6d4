//! `riskgrade verify`: checks an output folder against its manifest (M4): the inputs it read
//! and every file it holds re-hashed, files added or missing, outputs its manifest fails to list.

use crate::cli::VerifyArgs;
use crate::console;
use crate::error::Result;
use crate::run_folder::{self, Verification};

/// Runs the command; an unchanged folder exits 0, a changed one with
/// [`crate::error::EXIT_CHANGED`].
pub fn run(args: &VerifyArgs) -> Result<Verification> {
    let v = run_folder::verify(&args.run)?;
    for c in &v.changed {
        console::say(c);
    }
    if v.changed.is_empty() {
        console::say(&format!(
            "{}: all {} files match the manifest",
            args.run.display(),
            v.unchanged
        ));
    } else {
        console::say(&format!(
            "{}: {} differences from the manifest ({} files match)",
            args.run.display(),
            v.changed.len(),
            v.unchanged
        ));
    }
    Ok(v)
}
