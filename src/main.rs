//! The `drydock` binary: everything it does is in `cli/`.

mod cli;
mod huge;

#[global_allocator]
static ALLOCATOR: huge::HugeLarge = huge::HugeLarge;

fn main() -> std::process::ExitCode {
    cli::main()
}
