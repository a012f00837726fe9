//! The `fpx` binary: all logic lives in the library.

// fpx allocates many small strings from several threads (events, witnesses); mimalloc
// is markedly faster at that than the system allocator (`fpx replay`: see README).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fpx::cli::run()
}
