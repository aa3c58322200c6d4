//! `riskgrade validate`: checks a model file and, optionally, reference tables and a portfolio.

use crate::cli::ValidateArgs;
use crate::error::Result;
use crate::inputs::Inputs;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::validate::{branches_known, validate_inputs};

/// Runs the command. Findings go to standard output, warnings to standard error.
pub fn run(args: &ValidateArgs, progress: &Progress) -> Result<()> {
    let as_of = args.as_of.unwrap_or_else(crate::dates::today);
    let src = super::model_from(args.model.as_deref())?;
    let model = src.value;
    crate::outln!("{}: valid", src.name);
    crate::out!("{}", model.summary());
    let reference = match &args.reference {
        Some(dir) => {
            let r = Reference::load(dir, as_of)?;
            let ids: Vec<String> = r.branches.iter().map(|b| b.0.clone()).collect();
            model.check_branches(&ids)?;
            crate::outln!(
                "{}: valid ({} countries, FATF lists {}, {} regions, {} industries, {} branches)",
                dir.display(),
                r.countries.len(),
                r.fatf_version,
                r.regions.len(),
                r.industries.len(),
                r.branches.len()
            );
            Some(ids)
        }
        None => None,
    };
    if let Some(dir) = &args.data {
        progress.line(&format!(
            "checking {} against the data contract",
            dir.display()
        ));
        let inputs = Inputs::open(dir)?;
        let counts = validate_inputs(&inputs, as_of, &model.grade_names())?;
        if let Some(branches) = &reference {
            branches_known(&inputs, branches)?;
        }
        for (file, rows) in &counts.rows {
            crate::outln!("{}/{file}: {rows} rows, valid", dir.display());
        }
        for w in &counts.warnings {
            progress.warn(&format!(
                "{}/{}: {} {}",
                dir.display(),
                w.file,
                w.rows,
                w.message
            ));
        }
    }
    Ok(())
}
