//! `riskgrade init DIR`: a starter model and the reference tables for an institution to edit.

use crate::cli::InitArgs;
use crate::error::Result;
use crate::guard::Guard;

/// Runs the command: the folder must be new or empty, apart from any folder riskgrade wrote.
pub fn run(args: &InitArgs) -> Result<()> {
    let dir = Guard::new().new_folder("DIR", &args.dir)?;
    let model = dir.join("model.toml");
    crate::io::write_private(&model, crate::model::DEFAULT_TOML.as_bytes())?;
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
