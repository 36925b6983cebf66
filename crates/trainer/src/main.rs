//! `scratchnet`: see `scratchnet --help` and the crate docs of `scratchnet_trainer`.

fn main() {
    scratchnet_trainer::cli::main()
}
