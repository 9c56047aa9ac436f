//! The `tileworks` binary. Everything lives in the library so integration tests and benchmarks
//! reach the same code; this file only hands the command line to it.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
