use clap::Parser;

/// mimalloc: Polars allocates and frees many large buffers; the system allocator spends much
/// of the run in the kernel returning and faulting in pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use riskgrade::cli::{Cli, Command};
use riskgrade::cmd;
use riskgrade::error::{Error, EXIT_CHANGED, EXIT_OK};
use riskgrade::progress::Progress;

/// Thread-count variables must be positive whole numbers: Polars panics on `0`.
fn check_thread_env() -> Result<(), Error> {
    for var in ["POLARS_MAX_THREADS", "RAYON_NUM_THREADS"] {
        if let Ok(v) = std::env::var(var) {
            if !v.trim().parse::<usize>().is_ok_and(|n| n > 0) {
                return Err(Error::Usage(format!(
                    "{var}={v}: give a positive number of threads, or unset it to use every core"
                )));
            }
        }
    }
    Ok(())
}

fn main() {
    // Every file and folder riskgrade makes is its owner's only, whatever the umask: run
    // folders hold customers' grades (P6), extracts and rating sheets their names and ID
    // numbers.
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    riskgrade::alloc::tune_memory();
    let cli = Cli::parse();
    if let Err(e) = check_thread_env() {
        riskgrade::errln!("riskgrade: {e}");
        std::process::exit(e.exit_code());
    }
    let progress = Progress::new(cli.quiet);
    let result: Result<(), Error> = match &cli.command {
        Command::Assess(a) => cmd::assess::run(a, &progress).map(|o| {
            riskgrade::out!("{}", o.screen);
            riskgrade::outln!("outputs in {}", a.out.display());
        }),
        Command::Validate(a) => cmd::validate::run(a, &progress),
        Command::Generate(a) => cmd::generate::run(a, &progress),
        Command::Extract(a) => cmd::extract::run(a, &progress).map(|line| {
            riskgrade::outln!("{line}");
            riskgrade::outln!("outputs in {}", a.out.display());
        }),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Init(a) => cmd::init::run(a),
        Command::Retention(a) => cmd::retention::run(a),
        Command::Links(a) => cmd::links::run(a, &progress),
        Command::Owners(a) => cmd::owners::run(a, &progress),
        Command::Monitor(a) => cmd::monitor::run(a, &progress).map(|screen| {
            riskgrade::out!("{screen}");
            riskgrade::outln!("outputs in {}", a.out.display());
        }),
        Command::Merge(a) => cmd::merge::run(a, &progress).map(|screen| {
            riskgrade::out!("{screen}");
            riskgrade::outln!("outputs in {}", a.out.display());
        }),
        Command::Compare(a) => cmd::compare::run(a, &progress).map(|screen| {
            riskgrade::out!("{screen}");
            riskgrade::outln!("outputs in {}", a.out.display());
        }),
        Command::Verify(a) => match cmd::verify::run(a) {
            Ok(v) if !v.changed.is_empty() => std::process::exit(EXIT_CHANGED),
            other => other.map(|_| ()),
        },
    };
    // Results that could not be written (a full disk behind `> file`) fail the command; a
    // closed pipe does not.
    let result = match (result, riskgrade::console::failure()) {
        (Ok(()), Some(f)) => Err(Error::Env(f)),
        (r, _) => r,
    };
    match result {
        Ok(()) => std::process::exit(EXIT_OK),
        Err(e) => {
            riskgrade::errln!("riskgrade: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
