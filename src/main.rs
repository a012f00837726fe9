//! The `fpx` binary: all logic lives in the library.

// fpx allocates many small strings from several threads (events, witnesses); mimalloc
// is markedly faster at that than the system allocator (`fpx replay`: see README). It is
// built without transparent huge pages (`no_thp`): asking the kernel for them made
// every fresh 2 MiB of memory a page to zero, a third of the Elastic corpus check's
// time and half of a replay's (system time 2.4 s -> 0.2 s).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    fpx::cli::run()
}
