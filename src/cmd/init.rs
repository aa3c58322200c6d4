//! `riskgrade init DIR`: a starter model and the reference tables for an institution to edit.

use crate::cli::InitArgs;
use crate::error::{Error, Result};

/// Runs the command.
pub fn run(args: &InitArgs) -> Result<()> {
    let dir = &args.dir;
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(Error::Usage(format!(
            "{} exists and is not empty; give a new folder",
            dir.display()
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::Env(format!("{}: {e}", dir.display())))?;
    let model = dir.join("model.toml");
    std::fs::write(&model, crate::model::DEFAULT_TOML)
        .map_err(|e| Error::Env(format!("{}: {e}", model.display())))?;
    crate::reference::write_builtin(&dir.join("reference"))?;
    crate::outln!(
        "wrote {} and {}/ (countries, FATF lists, regions, industries, branches, working days)",
        model.display(),
        dir.join("reference").display()
    );
    crate::outln!(
        "edit them (docs/model.md, data/README.md), then: riskgrade assess --model {} --reference {} --data DIR",
        model.display(),
        dir.join("reference").display()
    );
    Ok(())
}
