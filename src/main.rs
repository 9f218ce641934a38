use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kafka_gen::cli::Cli::parse();
    match kafka_gen::app::main(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kafka-gen: {err:#}");
            kafka_gen::exit::code_for(&err)
        }
    }
}
