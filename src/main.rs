use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    schemac::cli::run(schemac::cli::Cli::parse())
}
