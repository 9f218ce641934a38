use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = kafka_gen::cli::Cli::parse_args(std::env::args_os());
    match kafka_gen::app::main(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("kafka-gen: {err:#}");
            kafka_gen::exit::code_for(&err)
        }
    }
}
