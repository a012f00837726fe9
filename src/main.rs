//! The `fpx` binary: all logic lives in the library.

fn main() -> std::process::ExitCode {
    fpx::cli::run()
}
