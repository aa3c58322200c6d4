//! `riskgrade validate`: checks a model file and, optionally, a portfolio and reference tables.

use crate::cli::ValidateArgs;
use crate::error::Result;
use crate::model::Model;
use crate::progress::Progress;
use crate::reference::Reference;
use crate::validate::validate_inputs;

/// Runs the command.
pub fn run(args: &ValidateArgs, progress: &Progress) -> Result<()> {
    let model = Model::load(&args.model)?;
    println!("{}: valid", args.model.display());
    print!("{}", model.summary());
    if let Some(dir) = &args.reference {
        let r = Reference::load(dir, args.as_of.unwrap_or_else(crate::dates::today))?;
        let ids: Vec<String> = r.branches.iter().map(|b| b.0.clone()).collect();
        model.check_branches(&ids)?;
        println!(
            "{}: valid ({} countries, FATF lists {}, {} regions, {} industries, {} branches)",
            dir.display(),
            r.countries.len(),
            r.fatf_version,
            r.regions.len(),
            r.industries.len(),
            r.branches.len()
        );
    }
    if let Some(dir) = &args.data {
        progress.line(&format!(
            "checking {} against the data contract",
            dir.display()
        ));
        let counts = validate_inputs(dir, args.as_of.unwrap_or_else(crate::dates::today))?;
        if let Some(r) = &args.reference {
            let branches = Reference::load(r, args.as_of.unwrap_or_else(crate::dates::today))?
                .branches
                .into_iter()
                .map(|b| b.0)
                .collect::<Vec<_>>();
            crate::validate::branches_known(dir, &branches)?;
        }
        for (file, rows) in &counts.rows {
            println!("{}/{file}: {rows} rows, valid", dir.display());
        }
        for w in &counts.warnings {
            println!(
                "warning: {}/{}: {} {}",
                dir.display(),
                w.file,
                w.rows,
                w.message
            );
        }
    }
    Ok(())
}
